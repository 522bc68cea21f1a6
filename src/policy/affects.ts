import { connectorMetas } from '../connectors/catalog.js';
import { accountFor } from '../model/accounts.js';
import type { AccessRepo } from '../model/repo.js';
import { GRANT_PATH } from './classify.js';

/** Fields of a person that name them and nothing more: editing only these is approvable by a Users Read/Write admin. */
const NAME_FIELDS = new Set(['name', 'email', 'givenName', 'familyName']);

type Entry = Record<string, unknown>;

/**
 * The people whose own access a changed path grants or changes, read from
 * both sides: a grant's grantee (by its path and by its `user`) and everyone
 * who has the same account in that app (one account is one person's, however
 * many entries name it), people whose directory entry changed, members added
 * to or removed from a role, approvers added or removed. None of them may
 * approve that change.
 */
export function affects(
  path: string,
  base: AccessRepo,
  head: AccessRepo,
): { affects: string[]; namesOnly?: boolean } {
  const grant = GRANT_PATH.exec(path);
  if (grant) {
    const app = grant[1]!;
    const users = new Set([grant[2]!]);
    for (const repo of [base, head]) {
      const user = repo.grants.find((g) => g.file === path)?.raw?.user;
      if (typeof user === 'string') users.add(user);
    }
    for (const repo of [base, head]) for (const id of sharingAccount(repo, app, users)) users.add(id);
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

/** A person's account in an app as the app compares it (letter case folded where the app ignores it). */
function accountIn(repo: AccessRepo, app: string, person: Entry): string | undefined {
  const type = record(repo.apps.get(app)?.raw?.connector).type;
  const meta = typeof type === 'string' ? connectorMetas[type] : undefined;
  const id = person.id;
  if (typeof id !== 'string') return undefined;
  const email = typeof person.email === 'string' ? person.email : undefined;
  const accounts = Object.fromEntries(
    Object.entries(record(person.accounts)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const account = accountFor({ id, email, accounts }, app, meta?.accountDefault);
  return account === undefined || !meta
    ? account
    : meta.caseInsensitiveAccounts
      ? account.toLowerCase()
      : account;
}

/** Everyone whose account in `app` is the account of one of `ids`. */
function sharingAccount(repo: AccessRepo, app: string, ids: ReadonlySet<string>): string[] {
  const entries = directory(repo);
  const accounts = new Set(
    [...ids].flatMap((id) => {
      const entry = entries.get(id);
      const account = entry && accountIn(repo, app, entry);
      return account === undefined ? [] : [account];
    }),
  );
  if (accounts.size === 0) return [];
  return [...entries].filter(([, e]) => accounts.has(accountIn(repo, app, e) ?? '\u0000')).map(([id]) => id);
}

function directory(repo: AccessRepo): Map<string, Entry> {
  const list = repo.people?.raw?.people;
  const byId = new Map<string, Entry>();
  for (const entry of Array.isArray(list) ? list : []) {
    const id = record(entry).id;
    if (typeof id === 'string' && !byId.has(id)) byId.set(id, record(entry));
  }
  return byId;
}

/**
 * Who a directory change touches, and whether it only renames people: a new
 * person with any account, or an edit that moves anyone's account in any app
 * (an email change where an app names accounts by email), is not a rename.
 */
function people(base: AccessRepo, head: AccessRepo): { affects: string[]; namesOnly: boolean } {
  const before = directory(base);
  const after = directory(head);
  const apps = new Set([...base.apps.keys(), ...head.apps.keys()]);
  const changed: string[] = [];
  let namesOnly = Array.isArray(head.people?.raw?.people);
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(id);
    const next = after.get(id);
    if (JSON.stringify(old) === JSON.stringify(next)) continue;
    changed.push(id);
    if (!next) continue;
    if (!old) {
      // A new person may be named, but any account they claim is an identity for this policy.
      namesOnly &&= Object.keys(record(next.accounts)).length === 0 && next.githubId === undefined;
      continue;
    }
    const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
    for (const key of keys)
      if (!NAME_FIELDS.has(key) && JSON.stringify(old[key]) !== JSON.stringify(next[key])) namesOnly = false;
    for (const app of apps) if (accountIn(head, app, old) !== accountIn(head, app, next)) namesOnly = false;
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
