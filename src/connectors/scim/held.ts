import type { Held } from '../types.js';
import type { Ownership } from './decide.js';
import { unownedReason } from './decide.js';
import type { ScimGroup, ScimUser } from './read.js';
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
    held.push({
      account: user.userName,
      ...(m.license ? { license: m.id } : { entitlement: m.id }),
      ...(user.active === false ? { disabled: true } : {}),
      ...(input.importing && !marked ? { unowned: unownedReason(user) } : {}),
    });
  };
  const byId = new Map<string, ScimUser>();
  for (const user of input.users) {
    byId.set(user.id, user);
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
