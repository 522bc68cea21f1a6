import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { identityArgs } from './identity.js';

/**
 * Commits every file of a folder (made a git repository on `branch`, default
 * `main`, first if it is not one) as the configured user, or as iden where none
 * is configured. Returns the commit.
 */
export async function commitAll(root: string, message: string, branch = 'main'): Promise<string> {
  const git = simpleGit({ baseDir: root });
  if (!existsSync(join(root, '.git'))) await git.init(['-q', '-b', branch]);
  await git.add(['-A']);
  await git.raw([...(await identityArgs(root)), 'commit', '-q', '-m', message]);
  return (await git.revparse(['HEAD'])).trim();
}
