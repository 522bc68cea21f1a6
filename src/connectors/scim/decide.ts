import type { Change } from '../types.js';
import type { ScimUser } from './read.js';
import { attributeOperations, type Form, type Mapping, type Op, type PersonInfo } from './users.js';

/**
 * Whose a User is. iden owns the Users it created (marked with externalId =
 * the person's id) and those `_app.yaml`'s `adopt:` hands it whose externalId
 * is absent (another system's id is never overwritten). It changes the
 * managed values of any User whose userName is a person's account; it
 * activates, deactivates and marks only Users it owns.
 */
export interface Ownership {
  /** iden created it: its externalId names a person of the directory. */
  marked: boolean;
  /** iden may act on the User itself: marked, or adopted and unmarked by anyone. */
  owned: boolean;
}

const hasExternalId = (user: ScimUser) => user.externalId !== undefined && user.externalId !== '';

export function ownership(
  user: ScimUser,
  people: ReadonlyMap<string, unknown> | undefined,
  adopt: ReadonlySet<string>,
): Ownership {
  const marked = user.externalId !== undefined && (people?.has(user.externalId) ?? false);
  return { marked, owned: marked || (!hasExternalId(user) && adopt.has(user.userName.toLowerCase())) };
}

/** Why a User iden did not create is not iden's to change, as import reports it. */
export function unownedReason(user: ScimUser): string {
  return hasExternalId(user)
    ? `not created by iden: its externalId ${JSON.stringify(user.externalId)} is another system's`
    : 'not created by iden (it has no externalId)';
}

/** Why a grant cannot be made usable: the User is inactive and iden may not activate it. Undefined when it can. */
export function refusal(app: string, user: ScimUser, own: Ownership): string | undefined {
  if (user.active !== false || own.owned) return undefined;
  return `${user.userName}'s User was deactivated outside iden and iden did not create it, so iden does not reactivate it: activate it in the app, or list it in grants/${app}/_app.yaml adopt: (iden import --adopt) for iden to take it over`;
}

export interface UserFacts {
  app: string;
  user: ScimUser;
  own: Ownership;
  /** The person whose account the User is. */
  person: PersonInfo | undefined;
  grant: boolean;
  /** The person's changes to the User's own roles and entitlements (group changes are the groups'). */
  changes: Change[];
  mappingOf: (c: Change) => Mapping;
  form: Form;
  /** Nothing of the managed scope is left to the User once the run's removals are made. */
  nothingLeft: boolean;
  /** What the User holds outside the managed scope, read fresh; undefined when nothing (or not read). */
  other: string | undefined;
}

export interface UserPlan {
  /** The PATCH operations, in the form asked: values, then the mark, then activation. */
  ops: Op[];
  /** The mark written (externalId), when iden takes an adopted User over. */
  externalId?: string;
  active?: boolean;
  /** Why the grants may not be made: nothing is written. */
  refused?: string;
}

/** Whether the User would be deactivated, were it to hold nothing iden does not manage: then read what it holds. */
export function mayDeactivate(facts: Omit<UserFacts, 'other' | 'form'>): boolean {
  return !facts.grant && facts.own.owned && facts.nothingLeft && facts.user.active !== false;
}

/**
 * What to do to one existing User: the one judge for the PATCH path, the
 * PUT path and /Bulk alike. Values the User already holds are not added
 * again; an owned User is marked (only where no one has), reactivated for a
 * grant, and deactivated when its last managed access goes unless it holds
 * access iden does not manage; an inactive User iden does not own is refused.
 */
export function decideUser(facts: UserFacts): UserPlan {
  const { user, own, person, grant } = facts;
  const why = grant ? refusal(facts.app, user, own) : undefined;
  if (why) return { ops: [], refused: why };
  const held = (attribute: 'roles' | 'entitlements', value: string) =>
    (user[attribute] ?? []).some((v) => v.value === value);
  const changes = facts.changes.filter((c) => {
    const m = facts.mappingOf(c);
    if (c.action !== 'grant' || m.group !== undefined) return true;
    return m.role !== undefined ? !held('roles', m.role) : !held('entitlements', m.entitlement!);
  });
  const ops = attributeOperations(user, changes, facts.mappingOf, facts.form);
  const plan: UserPlan = { ops };
  if (own.owned && !own.marked && person && !hasExternalId(user)) {
    plan.externalId = person.id;
    ops.push({ op: 'replace', path: 'externalId', value: person.id });
  }
  if (grant && user.active === false) plan.active = true;
  if (mayDeactivate(facts) && facts.other === undefined) plan.active = false;
  if (plan.active !== undefined) ops.push({ op: 'replace', path: 'active', value: plan.active });
  return plan;
}

/**
 * What a User holds that iden does not manage, said as people read it:
 * roles and entitlements no mapping names, groups that are not managed ones
 * (by id); undefined when it holds nothing else.
 */
export function outsideScope(
  user: ScimUser,
  mappings: readonly Mapping[],
  managedGroups: ReadonlySet<string>,
  memberOf: readonly { id: string; name: string }[],
): string | undefined {
  const roles = new Set(mappings.flatMap((m) => (m.role !== undefined ? [m.role] : [])));
  const entitlements = new Set(mappings.flatMap((m) => (m.entitlement !== undefined ? [m.entitlement] : [])));
  const quote = (values: string[]) => values.map((v) => JSON.stringify(v)).join(', ');
  const parts: string[] = [];
  const otherRoles = (user.roles ?? []).map((r) => r.value).filter((v) => !roles.has(v));
  if (otherRoles.length > 0) parts.push(`roles ${quote(otherRoles)}`);
  const otherEntitlements = (user.entitlements ?? []).map((e) => e.value).filter((v) => !entitlements.has(v));
  if (otherEntitlements.length > 0) parts.push(`entitlements ${quote(otherEntitlements)}`);
  const otherGroups = memberOf.filter((g) => !managedGroups.has(g.id)).map((g) => g.name);
  if (otherGroups.length > 0) parts.push(`groups ${quote(otherGroups)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}
