import type { Held } from '../types.js';
import { ROLES, type Role } from './read.js';
import type { GoogleWorkspaceEntitlement, GoogleWorkspaceLicense } from './settings.generated.js';

/** What the session knows of the managed scope: read by observe, kept current by every write. */
export interface State {
  /** Each managed group (lower-case address): its user members, by lower-case address. */
  groups: Map<string, Map<string, { email: string; role: Role }>>;
  /** Each tier's holders (lower-case address to the address as Google spells it). */
  tiers: Map<string, Map<string, string>>;
}

export const rank = (role: Role | undefined): number => ROLES.indexOf(role ?? 'MEMBER');
export const roleOf = (e: GoogleWorkspaceEntitlement): Role => e.role ?? 'MEMBER';
export const groupOf = (e: GoogleWorkspaceEntitlement): string => e.group.toLowerCase();

/** What a mapping names in Google: a role of a group, or a SKU. */
const entitlementKey = (e: GoogleWorkspaceEntitlement) => `${groupOf(e)} ${roleOf(e)}`;
const licenseKey = (l: GoogleWorkspaceLicense) => `${l.productId}/${l.skuId}`;
/** A mapping _app.yaml no longer declares, observed so its holders are revoked: its id is marked (`x@retired`). */
const retired = (m: { id: string }) => m.id.includes('@');

/**
 * The mappings to observe: the declared ones, and the retired ones that name
 * something else in Google. A retired mapping naming what a declared one
 * names (the group's address written in other letter case) is the same
 * access, not access to take away.
 */
export function effective(
  entitlements: readonly GoogleWorkspaceEntitlement[],
  licenses: readonly GoogleWorkspaceLicense[],
): { entitlements: GoogleWorkspaceEntitlement[]; licenses: GoogleWorkspaceLicense[] } {
  const keep = <T extends { id: string }>(items: readonly T[], key: (item: T) => string) => {
    const seen = new Set(items.filter((i) => !retired(i)).map(key));
    return items.filter((i) => {
      if (!retired(i)) return true;
      if (seen.has(key(i))) return false;
      seen.add(key(i));
      return true;
    });
  };
  return { entitlements: keep(entitlements, entitlementKey), licenses: keep(licenses, licenseKey) };
}

/** Declared mappings that would make what someone holds ambiguous: one role of a group twice, one SKU twice. */
export function ambiguities(
  entitlements: readonly GoogleWorkspaceEntitlement[],
  licenses: readonly GoogleWorkspaceLicense[],
): string[] {
  const found: string[] = [];
  const seen = new Map<string, string>();
  for (const e of entitlements.filter((m) => !retired(m))) {
    const key = entitlementKey(e);
    const other = seen.get(key);
    if (other) found.push(`entitlements ${other} and ${e.id} both give the ${roleOf(e)} role in ${e.group}`);
    else seen.set(key, e.id);
  }
  for (const l of licenses.filter((m) => !retired(m))) {
    const key = `sku ${licenseKey(l)}`;
    const other = seen.get(key);
    if (other) found.push(`tiers ${other} and ${l.id} both name ${l.productId}/${l.skuId}`);
    else seen.set(key, l.id);
  }
  return found;
}

/**
 * What the managed scope holds, from what was read. A member holds the
 * group's entitlement of the highest declared role their own role reaches;
 * the group's lower declared roles come with it (an owner is a member), held
 * as given by that role: they satisfy a grant, and are never taken away on
 * their own. A member whose role reaches no declared role holds nothing
 * here. Pure.
 */
export function heldOf(
  entitlements: readonly GoogleWorkspaceEntitlement[],
  licenses: readonly GoogleWorkspaceLicense[],
  state: State,
): Held[] {
  const held: Held[] = [];
  for (const [group, members] of state.groups) {
    const mine = entitlements.filter((e) => groupOf(e) === group);
    for (const { email, role } of members.values()) {
      const reached = mine.filter((e) => rank(roleOf(e)) <= rank(role));
      const top = Math.max(-1, ...reached.map((e) => rank(roleOf(e))));
      for (const e of reached)
        held.push(
          rank(roleOf(e)) === top
            ? { account: email, entitlement: e.id }
            : { account: email, entitlement: e.id, external: `the ${role} role in ${e.group} includes it` },
        );
    }
  }
  for (const tier of licenses)
    for (const email of state.tiers.get(tier.id)?.values() ?? [])
      held.push({ account: email, license: tier.id });
  return held;
}
