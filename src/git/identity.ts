import { runGit } from './run.js';

/**
 * Where the runner has no git identity (a fresh CI machine, a new laptop), commits
 * and notes are made as iden, at an address under `.invalid`, a domain no one can
 * hold: GitHub credits commits to the account owning their email, and a
 * `users.noreply.github.com` address belongs to whoever has that login.
 */
export const FALLBACK_IDENTITY = { name: 'iden', email: 'iden@iden.invalid' } as const;

/** Commits and notes as the configured user, or as iden where the runner has none. */
export async function identityArgs(root: string): Promise<string[]> {
  const [name, email] = await Promise.all([gitConfig(root, 'user.name'), gitConfig(root, 'user.email')]);
  return [
    ...(name ? [] : ['-c', `user.name=${FALLBACK_IDENTITY.name}`]),
    ...(email ? [] : ['-c', `user.email=${FALLBACK_IDENTITY.email}`]),
  ];
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
