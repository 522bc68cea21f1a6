import type { HeldProfile } from '../../model/access.js';
import type { Held } from '../types.js';
import type { OktaClient } from './client.js';
import { OktaError } from './errors.js';
import { keyOf, type Mapping, profileKey, profileMatches, targetOf } from './mapping.js';
import {
  type AppUser,
  appsLabelled,
  appUsers,
  type GroupRule,
  groupMembers,
  groupRules,
  groupsById,
  groupsByName,
  type OktaGroup,
  type OktaUser,
  type RoleAssignment,
  roleHolders,
  user,
  userRoles,
} from './read.js';

/** A mistake in the app's settings that no retry fixes (a group that is not there): the app is skipped. */
export class SettingsError extends Error {}

export interface GroupState {
  id: string;
  name: string;
  members: Map<string, OktaUser>;
  /** Active group rules that add people to this group. */
  rules: GroupRule[];
}

export interface AppState {
  id: string;
  label: string;
  users: Map<string, AppUser>;
}

/** What observe read of the org, kept for the steps (ids, current members, assignment ids). */
export interface OrgState {
  /** Users by lowercase login. */
  users: Map<string, OktaUser>;
  groups: Map<string, GroupState>;
  apps: Map<string, AppState>;
  /** Group or app id of each group or app mapping, by mapping key. */
  targets: Map<string, string>;
  /** Admin role assignments of the users who hold any, by user id. */
  roles: Map<string, RoleAssignment[]>;
}

export function emptyState(): OrgState {
  return { users: new Map(), groups: new Map(), apps: new Map(), targets: new Map(), roles: new Map() };
}

const loginOf = (u: OktaUser | undefined) => u?.profile?.login;

/** Reads the groups, apps and roles the mappings name, each list to its end, into `state`. */
export async function readOrg(
  client: OktaClient,
  mappings: readonly Mapping[],
  state: OrgState,
): Promise<void> {
  const groupMaps = mappings.filter((m) => m.kind === 'group');
  if (groupMaps.length > 0) await readGroups(client, groupMaps, state);
  const appMaps = mappings.filter((m) => m.kind === 'app');
  if (appMaps.length > 0) await readApps(client, appMaps, state);
  for (const g of state.groups.values())
    for (const u of g.members.values()) if (loginOf(u)) state.users.set(loginOf(u)!.toLowerCase(), u);
  for (const a of state.apps.values())
    for (const au of a.users.values()) {
      const embedded = au._embedded?.user;
      if (loginOf(embedded)) state.users.set(loginOf(embedded)!.toLowerCase(), { ...embedded!, id: au.id });
    }
  if (mappings.some((m) => m.kind === 'role')) await readRoles(client, state);
}

async function readGroups(client: OktaClient, maps: Mapping[], state: OrgState): Promise<void> {
  const ids = [...new Set(maps.flatMap((m) => (m.group?.id ? [m.group.id] : [])))];
  const names = [...new Set(maps.flatMap((m) => (m.group?.name ? [m.group.name] : [])))];
  const byId = new Map((await groupsById(client, ids)).map((g) => [g.id, g]));
  const named = await groupsByName(client, names);
  const owner = new Map<string, string>();
  for (const m of maps) {
    const group = m.group?.id ? byId.get(m.group.id) : oneNamed(named, m.group!.name!);
    if (!group) throw new SettingsError(`no Okta group with id ${m.group?.id}; check ${m.id}'s groupId`);
    if (group.type !== undefined && group.type !== 'OKTA_GROUP')
      throw new SettingsError(
        `group ${group.profile?.name ?? group.id} is of type ${group.type}: its members are managed ${group.type === 'APP_GROUP' ? 'in the directory or app that imports it (map it there)' : 'by Okta'}, not through the API`,
      );
    const other = owner.get(group.id);
    if (other)
      throw new SettingsError(
        `${other} and ${m.id} both map to group ${group.profile?.name ?? group.id}: a membership cannot tell them apart`,
      );
    owner.set(group.id, m.id);
    state.targets.set(keyOf(m), group.id);
    state.groups.set(group.id, {
      id: group.id,
      name: group.profile?.name ?? group.id,
      members: new Map(),
      rules: [],
    });
  }
  for (const g of state.groups.values())
    for (const u of await groupMembers(client, g.id)) g.members.set(u.id, u);
  // The only documented sign of a rule-fed membership: an active rule whose action names the group.
  for (const rule of await groupRules(client)) {
    if (rule.status !== 'ACTIVE') continue;
    for (const id of rule.actions?.assignUserToGroups?.groupIds ?? []) state.groups.get(id)?.rules.push(rule);
  }
}

/** The one group of that name; Okta's search ignores case, so an exact match is preferred. */
function oneNamed(groups: OktaGroup[], name: string): OktaGroup {
  const same = groups.filter((g) => g.profile?.name === name);
  const folded = groups.filter((g) => g.profile?.name?.toLowerCase() === name.toLowerCase());
  const found = same.length > 0 ? same : folded;
  if (found.length === 0)
    throw new SettingsError(`no Okta group named ${JSON.stringify(name)}; create it in Okta first`);
  if (found.length > 1)
    throw new SettingsError(
      `${found.length} Okta groups are named ${JSON.stringify(name)} (${found.map((g) => g.id).join(', ')}): name one by groupId`,
    );
  return found[0]!;
}

async function readApps(client: OktaClient, maps: Mapping[], state: OrgState): Promise<void> {
  const labels = new Map<string, { id: string; label: string }>();
  for (const label of new Set(maps.flatMap((m) => (m.app?.label ? [m.app.label] : [])))) {
    const exact = (await appsLabelled(client, label)).filter((a) => a.label === label);
    if (exact.length === 0) throw new SettingsError(`no Okta app labelled ${JSON.stringify(label)}`);
    if (exact.length > 1)
      throw new SettingsError(
        `${exact.length} Okta apps are labelled ${JSON.stringify(label)} (${exact.map((a) => a.id).join(', ')}): name one by appId`,
      );
    labels.set(label, { id: exact[0]!.id, label });
  }
  const seen = new Map<string, string>();
  for (const m of maps) {
    const app = m.app?.id ? { id: m.app.id, label: m.app.id } : labels.get(m.app!.label!)!;
    const key = `${app.id}\u0000${profileKey(m.profile)}`;
    if (seen.has(key))
      throw new SettingsError(
        `${seen.get(key)} and ${m.id} both map to app ${app.label} with the same profile values: an assignment cannot tell them apart`,
      );
    seen.set(key, m.id);
    state.targets.set(keyOf(m), app.id);
    if (!state.apps.has(app.id)) state.apps.set(app.id, { ...app, users: new Map() });
  }
  for (const a of state.apps.values()) {
    try {
      for (const au of await appUsers(client, a.id)) a.users.set(au.id, au);
    } catch (e) {
      if (e instanceof OktaError && e.status === 404)
        throw new SettingsError(`no Okta app with id ${a.id} (${e.message})`);
      throw e;
    }
  }
}

async function readRoles(client: OktaClient, state: OrgState): Promise<void> {
  const byId = new Map([...state.users.values()].map((u) => [u.id, u]));
  for (const id of await roleHolders(client)) {
    const roles = await userRoles(client, id);
    if (roles.length === 0) continue;
    state.roles.set(id, roles);
    const holder = byId.get(id) ?? (await user(client, id));
    if (loginOf(holder)) state.users.set(loginOf(holder)!.toLowerCase(), holder);
  }
}

/** Which active rules may have put this member in the group: those that do not exclude them. */
export function rulesFeeding(group: GroupState, userId: string): GroupRule[] {
  return group.rules.filter((r) => !(r.conditions?.people?.users?.exclude ?? []).includes(userId));
}

/** What the org holds of the mappings, as Helds: rule-fed members and group-assigned apps are external. */
export function heldOf(state: OrgState, mappings: readonly Mapping[], importing = false): Held[] {
  const held: Held[] = [];
  const loginById = new Map([...state.users.values()].map((u) => [u.id, loginOf(u)]));
  const byId = new Map([...state.users.values()].map((u) => [u.id, u]));
  const push = (h: Held, u: OktaUser | undefined) => {
    const profile = importing && u ? profileOf(u, loginById) : undefined;
    held.push(profile ? { ...h, profile } : h);
  };
  for (const m of mappings) {
    const target = state.targets.get(keyOf(m));
    if (m.kind === 'group' && target) {
      const group = state.groups.get(target)!;
      for (const u of group.members.values()) {
        const login = loginOf(u);
        if (!login) continue;
        const rules = rulesFeeding(group, u.id);
        const names = rules.map((r) => r.name ?? r.id);
        push(
          {
            account: login,
            ...targetOf(m),
            ...(rules.length > 0
              ? { external: `group rule${names.length > 1 ? 's' : ''} ${names.join(', ')}` }
              : {}),
          },
          u,
        );
      }
    }
    if (m.kind === 'app' && target) {
      for (const au of state.apps.get(target)!.users.values()) {
        const login = loginOf(au._embedded?.user) ?? loginById.get(au.id);
        if (!login || !profileMatches(au.profile, m.profile)) continue;
        const through = au._links?.group?.name;
        push(
          {
            account: login,
            ...targetOf(m),
            ...(au.scope === 'GROUP'
              ? { external: `a group assignment${through ? ` (${through})` : ''} of the app` }
              : {}),
          },
          au._embedded?.user ?? byId.get(au.id),
        );
      }
    }
    if (m.kind === 'role') {
      for (const [id, roles] of state.roles) {
        const login = loginById.get(id);
        const mine = roles.filter((r) => r.type === m.role);
        if (!login || mine.length === 0) continue;
        const direct = mine.some((r) => r.assignmentType !== 'GROUP');
        push(
          { account: login, ...targetOf(m), ...(direct ? {} : { external: 'an admin role of a group' }) },
          byId.get(id),
        );
      }
    }
  }
  return held;
}

/**
 * Each user's lastLogin by login, as the lists observe read carry it (a
 * group's members, an app's embedded users): null when Okta says never; a
 * user whose object lacks the field is left out, so not known.
 */
export function lastLogins(state: OrgState): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const u of state.users.values()) {
    const login = loginOf(u);
    if (login && u.lastLogin !== undefined) out.set(login, u.lastLogin);
  }
  return out;
}

/** The profile fields _people.yaml keeps: name, email, department, title, and the manager (a user of the org). */
function profileOf(u: OktaUser, loginById: Map<string, string | undefined>): HeldProfile | undefined {
  const p = u.profile;
  if (!p) return undefined;
  const name = [p.firstName, p.lastName].filter(Boolean).join(' ');
  const attributes: Record<string, string> = {};
  if (p.department) attributes.department = p.department;
  if (p.title) attributes.title = p.title;
  const manager = p.managerId ? loginById.get(p.managerId) : undefined;
  return {
    ...(name ? { name } : {}),
    ...(p.email ? { email: p.email } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(manager ? { managerAccount: manager } : {}),
  };
}
