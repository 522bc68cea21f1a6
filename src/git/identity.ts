import type { SimpleGit } from 'simple-git';

/** Commits and notes as the configured user, or as iden where the runner has none (a fresh CI machine). */
export async function identityArgs(git: SimpleGit): Promise<string[]> {
  const name = await git.raw(['config', 'user.name']).catch(() => '');
  return name.trim() ? [] : ['-c', 'user.name=iden', '-c', 'user.email=iden@users.noreply.github.com'];
}
