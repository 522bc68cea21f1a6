import type { AccessRepo } from '../model/repo.js';
import type { BasePolicy } from './classify.js';

/**
 * Roles, approvers, GitHub logins (with the numeric ids they are pinned to)
 * and exemptions as the protected branch has them: what a change is judged
 * by, never what the change itself says. Read from the raw files, so a
 * directory with a schema error still names who holds which role.
 */
export function basePolicy(repo: AccessRepo): BasePolicy {
  const logins = new Map<string, string>();
  const loginOf = new Map<string, string>();
  const githubIds = new Map<string, number>();
  const people = repo.people?.raw?.people;
  for (const person of Array.isArray(people) ? people : []) {
    const { id, accounts, githubId } = (person ?? {}) as {
      id?: unknown;
      accounts?: { github?: unknown };
      githubId?: unknown;
    };
    const login = accounts?.github;
    if (typeof login !== 'string' || typeof id !== 'string' || logins.has(login.toLowerCase())) continue;
    logins.set(login.toLowerCase(), id);
    loginOf.set(id, login);
    if (typeof githubId === 'number' && Number.isInteger(githubId)) githubIds.set(id, githubId);
  }
  const settings = repo.settings?.raw ?? {};
  const roles = (settings.roles ?? {}) as Record<string, unknown>;
  const ids = (value: unknown) =>
    new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const approvers = new Map<string, Set<string>>();
  for (const [id, app] of repo.apps) approvers.set(id, ids(app.raw?.approvers));
  const exempt = (settings.policy as { exempt?: unknown } | undefined)?.exempt;
  return {
    logins,
    loginOf,
    githubIds,
    superAdmins: ids(roles['super-admin']),
    readWrite: ids(roles['users-read-write']),
    approvers,
    exempt: [...ids(exempt)],
  };
}

/** Whether the protected branch's settings ask that only GitHub-verified commits name anyone. */
export function verifiedCommitsOnly(repo: AccessRepo): boolean {
  const policy = repo.settings?.raw?.policy as { verifiedCommitsOnly?: unknown } | undefined;
  return policy?.verifiedCommitsOnly === true;
}
