import type { HeldProfile } from '../../model/access.js';
import type { Held } from '../types.js';
import type { Ownership } from './decide.js';
import { unownedReason } from './decide.js';
import { ENTERPRISE, type ScimGroup, type ScimUser } from './read.js';
import type { Mapping } from './users.js';

export interface HeldInput {
  users: Iterable<ScimUser>;
  groups: ReadonlyMap<string, ScimGroup>;
  mappings: readonly Mapping[];
  ownership: (user: ScimUser) => Ownership;
  /** Whether the User's userName is a person's account in this app. */
  isAccount: (user: ScimUser) => boolean;
  importing: boolean;
}

/**
 * What the app holds in its managed scope: the values and groups of every
 * User iden created or whose userName is a person's account, a User that is
 * inactive holding them `disabled` (access it cannot use: a grant repairs
 * it). Importing, every holder, those iden did not create marked `unowned`.
 * Anyone else holding managed access is a stranger, left alone.
 */
export function heldOf(input: HeldInput): { held: Held[]; strangers: string[] } {
  const held: Held[] = [];
  const seen = new Set<string>();
  const strangers = new Set<string>();
  const hold = (user: ScimUser, m: Mapping) => {
    // A member listed twice holds it once.
    const key = `${user.id}\u0000${m.license}\u0000${m.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    const { marked } = input.ownership(user);
    if (!marked && !input.isAccount(user) && !input.importing) {
      strangers.add(user.userName);
      return;
    }
    const profile = input.importing ? profileOf(user, byId) : undefined;
    held.push({
      account: user.userName,
      ...(m.license ? { license: m.id } : { entitlement: m.id }),
      ...(user.active === false ? { disabled: true } : {}),
      ...(input.importing && !marked ? { unowned: unownedReason(user) } : {}),
      ...(profile ? { profile } : {}),
    });
  };
  const users = [...input.users];
  const byId = new Map(users.map((u) => [u.id, u]));
  for (const user of users) {
    const roles = new Set((user.roles ?? []).map((r) => r.value));
    const entitlements = new Set((user.entitlements ?? []).map((e) => e.value));
    for (const m of input.mappings)
      if (
        (m.role !== undefined && roles.has(m.role)) ||
        (m.entitlement !== undefined && entitlements.has(m.entitlement))
      )
        hold(user, m);
  }
  for (const m of input.mappings) {
    if (m.group === undefined) continue;
    for (const member of input.groups.get(m.group)?.members ?? []) {
      const user = byId.get(member.value);
      if (user) hold(user, m);
    }
  }
  return { held, strangers: [...strangers] };
}

/** The person behind a User, as _people.yaml keeps it: name, email, title, department, and the manager's userName. */
function profileOf(user: ScimUser, byId: ReadonlyMap<string, ScimUser>): HeldProfile | undefined {
  const name =
    user.name?.formatted ??
    ([user.name?.givenName, user.name?.familyName].filter(Boolean).join(' ') || user.displayName);
  const email = (user.emails ?? []).find((e) => e.primary)?.value ?? user.emails?.[0]?.value;
  const enterprise = user[ENTERPRISE];
  const attributes: Record<string, string> = {};
  if (enterprise?.department) attributes.department = enterprise.department;
  if (user.title) attributes.title = user.title;
  const manager = enterprise?.manager?.value ? byId.get(enterprise.manager.value)?.userName : undefined;
  const profile: HeldProfile = {
    ...(name ? { name } : {}),
    ...(email ? { email } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(manager ? { managerAccount: manager } : {}),
  };
  return Object.keys(profile).length > 0 ? profile : undefined;
}
