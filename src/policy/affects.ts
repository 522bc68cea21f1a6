import type { AccessRepo } from '../model/repo.js';
import { GRANT_PATH } from './classify.js';

/** Fields of a person that name them and nothing more: editing only these is approvable by a Users Read/Write admin. */
const NAME_FIELDS = new Set(['name', 'email', 'givenName', 'familyName']);

/**
 * The people whose own access a changed path grants or changes, read from
 * both sides: a grant's grantee (by its path and by its `user`), people whose
 * directory entry changed, members added to or removed from a role, approvers
 * added or removed. None of them may approve that change.
 */
export function affects(
  path: string,
  base: AccessRepo,
  head: AccessRepo,
): { affects: string[]; namesOnly?: boolean } {
  const grant = GRANT_PATH.exec(path);
  if (grant) {
    const users = new Set([grant[2]!]);
    for (const repo of [base, head]) {
      const user = repo.grants.find((g) => g.file === path)?.raw?.user;
      if (typeof user === 'string') users.add(user);
    }
    return { affects: [...users] };
  }
  if (path === 'grants/_people.yaml') return people(base, head);
  if (path === 'grants/_settings.yaml') {
    const roles = (repo: AccessRepo) => record(repo.settings?.raw?.roles);
    const names = new Set([...Object.keys(roles(base)), ...Object.keys(roles(head))]);
    return { affects: [...names].flatMap((role) => changedMembers(roles(base)[role], roles(head)[role])) };
  }
  const app = /^grants\/([^/]+)\/_app\.yaml$/.exec(path)?.[1];
  if (app)
    return {
      affects: changedMembers(base.apps.get(app)?.raw?.approvers, head.apps.get(app)?.raw?.approvers),
    };
  return { affects: [] };
}

function people(base: AccessRepo, head: AccessRepo): { affects: string[]; namesOnly: boolean } {
  const entries = (repo: AccessRepo) => {
    const list = repo.people?.raw?.people;
    const byId = new Map<string, Record<string, unknown>>();
    for (const entry of Array.isArray(list) ? list : []) {
      const id = record(entry).id;
      if (typeof id === 'string' && !byId.has(id)) byId.set(id, record(entry));
    }
    return byId;
  };
  const before = entries(base);
  const after = entries(head);
  const changed: string[] = [];
  let namesOnly = Array.isArray(head.people?.raw?.people);
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(id);
    const next = after.get(id);
    if (JSON.stringify(old) === JSON.stringify(next)) continue;
    changed.push(id);
    if (!next) continue;
    // A new person may name accounts in apps, but a GitHub login is an identity for this policy.
    if (!old) namesOnly &&= record(next.accounts).github === undefined;
    else {
      const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
      for (const key of keys)
        if (!NAME_FIELDS.has(key) && JSON.stringify(old[key]) !== JSON.stringify(next[key]))
          namesOnly = false;
    }
  }
  return { affects: changed, namesOnly };
}

function changedMembers(before: unknown, after: unknown): string[] {
  const list = (value: unknown) =>
    new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const a = list(before);
  const b = list(after);
  return [...new Set([...a, ...b])].filter((id) => a.has(id) !== b.has(id));
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
