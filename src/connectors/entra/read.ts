import { literal, pages, query, type Read, ReadRefused } from './crawl.js';
import { type EntraUser, USER_FIELDS } from './directory.js';
import type { Graph } from './graph.js';

export interface EntraGroup {
  id: string;
  displayName?: string | null;
  groupTypes?: string[];
  membershipRule?: string | null;
  mailEnabled?: boolean | null;
  onPremisesSyncEnabled?: boolean | null;
}

export interface AppRole {
  id: string;
  value?: string | null;
  displayName?: string | null;
  isEnabled?: boolean;
  allowedMemberTypes?: string[];
}

export interface ServicePrincipal {
  id: string;
  appId?: string | null;
  displayName?: string | null;
  appRoles?: AppRole[];
}

export interface Assignment {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType?: string | null;
  principalDisplayName?: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (text: string) => GUID.test(text);

/** The app role assigned when an app declares none: "Default Access". */
export const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';

const GROUP_FIELDS = 'id,displayName,groupTypes,membershipRule,mailEnabled,onPremisesSyncEnabled';
export const PAGE = 999;

/** Why a group cannot be a target, if it cannot: Graph cannot change its members. */
export function refusal(group: EntraGroup): string | undefined {
  const name = `group ${JSON.stringify(group.displayName ?? group.id)} (${group.id})`;
  if (group.groupTypes?.includes('DynamicMembership'))
    return `${name} is a dynamic group: its members come from its rule (membershipRule: ${group.membershipRule ?? 'none'}), so iden cannot grant it; map the entitlement to an assigned group`;
  if (group.onPremisesSyncEnabled)
    return `${name} is synced from on-premises Active Directory: its members can only be changed there`;
  if (group.mailEnabled && !group.groupTypes?.includes('Unified'))
    return `${name} is a distribution list or a mail-enabled security group: Graph cannot change its members (Exchange Online does)`;
  return undefined;
}

/** Exactly one of what a name found, or why not. */
function one<T extends { id: string }>(found: T[], kind: string, name: string): T {
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new ReadRefused(`no ${kind} named ${JSON.stringify(name)}`);
  throw new ReadRefused(
    `${found.length} ${kind}s are named ${JSON.stringify(name)} (${found.map((f) => f.id).join(', ')}): name it by id`,
  );
}

/**
 * A group and its direct members that are users. Named by id, the group
 * and its first page of members are read at once; by name, the group is
 * found first. A group Graph cannot change is refused as a target.
 */
export function groupReads(
  graph: Graph,
  setting: string,
  found: (group: EntraGroup) => void,
  members: (users: EntraUser[]) => void,
  fields = USER_FIELDS,
): Read[] {
  const what = `reading group ${JSON.stringify(setting)}`;
  const permission = 'GroupMember.Read.All';
  const check = (group: EntraGroup) => {
    const refused = refusal(group);
    if (refused) throw new ReadRefused(refused);
    found(group);
  };
  const memberPages = (id: string) =>
    pages<EntraUser>(
      graph,
      `/groups/${id}/members/microsoft.graph.user${query({ $select: fields, $top: PAGE })}`,
      `reading the members of group ${JSON.stringify(setting)}`,
      members,
      { permission },
    );
  if (isGuid(setting)) {
    const missing = () => {
      throw new ReadRefused(`no group with id ${setting}`);
    };
    return [
      {
        request: { method: 'GET', url: `/groups/${setting}${query({ $select: GROUP_FIELDS })}` },
        what,
        permission,
        next: (body) => void check(body as EntraGroup),
        missing,
      },
      { ...memberPages(setting), missing },
    ];
  }
  const named: EntraGroup[] = [];
  return [
    pages<EntraGroup>(
      graph,
      `/groups${query({ $filter: `displayName eq ${literal(setting)}`, $select: GROUP_FIELDS })}`,
      what,
      (groups) => named.push(...groups),
      {
        permission,
        done: () => {
          const group = one(named, 'group', setting);
          check(group);
          return [memberPages(group.id)];
        },
      },
    ),
  ];
}

/**
 * An enterprise app (its service principal, with its app roles) and every
 * assignment of its roles (`found` says whether it is new). Named by a GUID, it is looked for as an appId,
 * then as the service principal's object id; otherwise by display name.
 */
export function appReads(
  graph: Graph,
  setting: string,
  found: (app: ServicePrincipal) => boolean,
  assignments: (items: Assignment[]) => void,
): Read[] {
  const what = `reading enterprise app ${JSON.stringify(setting)}`;
  const permission = 'Application.Read.All';
  const fields = 'id,appId,displayName,appRoles';
  // Two entitlements may name the same app differently: its assignments are read once.
  const assignmentPages = (app: ServicePrincipal): Read[] => {
    if (!found(app)) return [];
    return [
      pages<Assignment>(
        graph,
        `/servicePrincipals/${app.id}/appRoleAssignedTo${query({
          $select: 'id,appRoleId,principalId,principalType,principalDisplayName',
          $top: PAGE,
        })}`,
        `reading who holds the app roles of ${JSON.stringify(app.displayName ?? setting)}`,
        assignments,
        { permission },
      ),
    ];
  };
  const byObjectId = (): Read[] => [
    {
      request: { method: 'GET', url: `/servicePrincipals/${setting}${query({ $select: fields })}` },
      what,
      permission,
      next: (body) => assignmentPages(body as ServicePrincipal),
      missing: () => {
        throw new ReadRefused(`no enterprise app with appId or object id ${setting}`);
      },
    },
  ];
  const listed: ServicePrincipal[] = [];
  const property = isGuid(setting) ? 'appId' : 'displayName';
  return [
    pages<ServicePrincipal>(
      graph,
      `/servicePrincipals${query({ $filter: `${property} eq ${literal(setting)}`, $select: fields })}`,
      what,
      (apps) => listed.push(...apps),
      {
        permission,
        done: () =>
          listed.length === 0 && isGuid(setting)
            ? byObjectId()
            : assignmentPages(one(listed, 'enterprise app', setting)),
      },
    ),
  ];
}

/** The role an entitlement names, by value, display name or id: enabled and assignable to users. */
export function findRole(app: ServicePrincipal, setting: string): AppRole {
  const roles = app.appRoles ?? [];
  const name = JSON.stringify(app.displayName ?? app.id);
  if (setting === DEFAULT_ACCESS) {
    if (roles.some((r) => r.isEnabled !== false && r.allowedMemberTypes?.includes('User')))
      throw new ReadRefused(
        `${name} declares app roles for users: Default Access (${DEFAULT_ACCESS}) is only for an app that declares none`,
      );
    return {
      id: DEFAULT_ACCESS,
      displayName: 'Default Access',
      isEnabled: true,
      allowedMemberTypes: ['User'],
    };
  }
  const key = setting.toLowerCase();
  const matches = roles.filter(
    (r) =>
      r.id.toLowerCase() === key || r.value?.toLowerCase() === key || r.displayName?.toLowerCase() === key,
  );
  const role = matches.find((r) => r.value?.toLowerCase() === key) ?? matches[0];
  if (!role)
    throw new ReadRefused(
      `${name} has no app role ${JSON.stringify(setting)} (it has ${roles.map((r) => r.value ?? r.displayName ?? r.id).join(', ') || 'none'})`,
    );
  if (role.isEnabled === false)
    throw new ReadRefused(`app role ${JSON.stringify(setting)} of ${name} is disabled`);
  if (!role.allowedMemberTypes?.includes('User'))
    throw new ReadRefused(`app role ${JSON.stringify(setting)} of ${name} cannot be assigned to users`);
  return role;
}
