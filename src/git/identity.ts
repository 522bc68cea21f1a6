import { runGit } from './run.js';

/** Commits and notes as the configured user, or as iden where the runner has none (a fresh CI machine). */
export async function identityArgs(root: string): Promise<string[]> {
  const name = await gitConfig(root, 'user.name');
  return name ? [] : ['-c', 'user.name=iden', '-c', 'user.email=iden@users.noreply.github.com'];
}

/** A git configuration value as this folder sees it, or '' where it is unset (or this is no repository). */
export async function gitConfig(root: string, key: string): Promise<string> {
  const out = await runGit(root, ['config', '--get', key], [0, 1, 128]).catch(() => undefined);
  return out?.code === 0 ? out.stdout.trim() : '';
}

/** The person git knows as the user here: name and email from git config, where set. */
export async function gitUser(root: string): Promise<{ name?: string; email?: string }> {
  const [name, email] = await Promise.all([gitConfig(root, 'user.name'), gitConfig(root, 'user.email')]);
  return { ...(name ? { name } : {}), ...(email ? { email } : {}) };
}
