import type { Change } from '../types.js';
import type { ScimUser } from './read.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** How an entitlement or tier maps onto the service: a group, a role or an entitlement value. */
export interface Mapping {
  id: string;
  license: boolean;
  /** A mapping _app.yaml no longer declares, observed so its holders are revoked (`id@retired`). */
  retired?: boolean;
  group?: string;
  role?: string;
  entitlement?: string;
}

/** A person as _people.yaml has them, for the User iden creates. */
export interface PersonInfo {
  id: string;
  name: string;
  email: string;
  givenName?: string | undefined;
  familyName?: string | undefined;
}

/** How removals are written: one filtered remove per value, or the whole list written back without it. */
export type Form = 'filter' | 'replace';

export type Op = { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown };

type Attribute = 'roles' | 'entitlements';

function attributeOf(m: Mapping): { attribute: Attribute; value: string } {
  return m.role !== undefined
    ? { attribute: 'roles', value: m.role }
    : { attribute: 'entitlements', value: m.entitlement! };
}

/** A person's names as services want them apart (some, such as Salesforce, require familyName). */
export function names(person: PersonInfo): { givenName: string; familyName: string } {
  const at = person.name.trim().lastIndexOf(' ');
  return {
    givenName: person.givenName ?? (at > 0 ? person.name.slice(0, at).trim() : person.name),
    familyName: person.familyName ?? (at > 0 ? person.name.slice(at + 1).trim() : person.name),
  };
}

/** A new User: the account as userName, the person's id as externalId (what marks it as iden's), names and email. */
export function newUser(
  account: string,
  person: PersonInfo | undefined,
  changes: Change[],
  mappingOf: (c: Change) => Mapping,
): object {
  const values = (attribute: Attribute) =>
    changes.flatMap((c) => {
      const a = attributeOf(mappingOf(c));
      return mappingOf(c).group === undefined && a.attribute === attribute ? [{ value: a.value }] : [];
    });
  const roles = values('roles');
  const entitlements = values('entitlements');
  const email = person?.email ?? (account.includes('@') ? account : undefined);
  return {
    schemas: [USER_SCHEMA],
    userName: account,
    ...(person ? { externalId: person.id } : {}),
    name: person
      ? { formatted: person.name, ...names(person) }
      : { formatted: account, familyName: account, givenName: account },
    displayName: person?.name ?? account,
    emails: email ? [{ value: email, type: 'work', primary: true }] : [],
    active: true,
    ...(roles.length > 0 ? { roles } : {}),
    ...(entitlements.length > 0 ? { entitlements } : {}),
  };
}

/**
 * The PATCH operations that give or take a User's roles and entitlements:
 * adds together; removals one filtered remove each, or (in the replace form)
 * each list written back whole without them. Never a remove with no filter:
 * that removes every value on a conformant service.
 */
export function attributeOperations(
  user: ScimUser,
  changes: Change[],
  mappingOf: (c: Change) => Mapping,
  form: Form,
): Op[] {
  const ops: Op[] = [];
  for (const attribute of ['roles', 'entitlements'] as const) {
    const mine = changes
      .filter((c) => mappingOf(c).group === undefined)
      .map((c) => ({ c, ...attributeOf(mappingOf(c)) }))
      .filter((x) => x.attribute === attribute);
    const adds = mine.filter((x) => x.c.action === 'grant').map((x) => ({ value: x.value }));
    const removes = mine.filter((x) => x.c.action === 'revoke').map((x) => x.value);
    if (adds.length > 0) ops.push({ op: 'add', path: attribute, value: adds });
    if (removes.length === 0) continue;
    if (form === 'filter') {
      for (const value of removes)
        ops.push({ op: 'remove', path: `${attribute}[value eq ${JSON.stringify(value)}]` });
    } else {
      const kept = (user[attribute] ?? []).filter((v) => !removes.includes(v.value));
      const added = adds.filter((a) => !kept.some((k) => k.value === a.value));
      ops.push({ op: 'replace', path: attribute, value: [...kept, ...added] });
      // The add above is folded into the replace: one write of the list.
      const index = ops.findIndex((o) => o.op === 'add' && o.path === attribute);
      if (index >= 0) ops.splice(index, 1);
    }
  }
  return ops;
}

/** The User as these changes (and an activation) leave it: the session's picture, and a PUT's body. */
export function changedUser(
  user: ScimUser,
  changes: Change[],
  mappingOf: (c: Change) => Mapping,
  active?: boolean,
): ScimUser {
  const next: ScimUser = {
    ...user,
    roles: [...(user.roles ?? [])],
    entitlements: [...(user.entitlements ?? [])],
  };
  for (const c of changes) {
    const m = mappingOf(c);
    if (m.group !== undefined) continue;
    const { attribute, value } = attributeOf(m);
    const list = (next[attribute] ?? []).filter((v) => v.value !== value);
    next[attribute] = c.action === 'grant' ? [...list, { value }] : list;
  }
  if (active !== undefined) next.active = active;
  return next;
}

/** A whole User for services without PATCH: as the changes leave it, without the read-only meta. */
export function replacedUser(
  user: ScimUser,
  changes: Change[],
  mappingOf: (c: Change) => Mapping,
  active?: boolean,
): object {
  const { meta: _meta, ...rest } = changedUser(user, changes, mappingOf, active);
  return { ...rest, schemas: [USER_SCHEMA] };
}
