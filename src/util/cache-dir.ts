import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * iden's folder in this user's cache ($XDG_CACHE_HOME/iden, else
 * ~/.cache/iden): what is costly to make and the same for every clone on the
 * machine, such as the embedded database's template.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'iden');
}
