import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { identityArgs } from './identity.js';
import { gitIn } from './run.js';

/**
 * Commits every file of a folder (made a git repository on `branch`, default
 * `main`, first if it is not one) as the configured user, or as iden where none
 * is configured. Returns the commit.
 */
export async function commitAll(root: string, message: string, branch = 'main'): Promise<string> {
  const git = gitIn(root);
  if (!existsSync(join(root, '.git'))) await git.raw(['init', '-q', '-b', branch]);
  await git.raw(['add', '-A']);
  await git.raw([...(await identityArgs(root)), 'commit', '-q', '-m', message]);
  return (await git.raw(['rev-parse', 'HEAD'])).trim();
}
