import type { Held } from '../types.js';
import { crawl, ReadRefused } from './crawl.js';
import type { Directory, EntraUser } from './directory.js';
import type { Graph } from './graph.js';
import { type LicensedUser, licenceHolders, type Seats, seats, skuReads } from './licences.js';
import {
  type Assignment,
  appReads,
  type EntraGroup,
  findRole,
  groupReads,
  type ServicePrincipal,
} from './read.js';

/** How an entitlement or tier maps onto Entra: a group, an app role of an enterprise app, or a product. */
export interface Mapping {
  id: string;
  license: boolean;
  group?: string;
  app?: string;
  role?: string;
  sku?: string;
}

/** What observe found that the steps act on: object ids, members, assignments and seats. */
export interface Scope {
  groups: Map<string, EntraGroup>;
  /** Group id → ids of its direct user members. */
  members: Map<string, Set<string>>;
  apps: Map<string, ServicePrincipal>;
  /** Entitlement id → app role id. */
  roles: Map<string, string>;
  /** `servicePrincipalId principalId appRoleId` → the assignment's id. */
  assignments: Map<string, string>;
  /** By the tier's sku setting. */
  skus: Map<string, Seats>;
  /** skuId → ids of the users holding it directly (not only through a group). */
  licensed: Map<string, Set<string>>;
}

export const assignmentKey = (app: string, principal: string, role: string) =>
  `${app} ${principal} ${role}`.toLowerCase();

/**
 * Reads the managed scope in rounds of batched GETs: each managed group
 * and its members, each enterprise app and its role assignments, the
 * tenant's products and the holders of each managed one; then names the
 * holders of app roles not met yet. Complete or it throws.
 */
export async function observeScope(
  graph: Graph,
  directory: Directory,
  mappings: readonly Mapping[],
  notice: (text: string) => void,
): Promise<{ scope: Scope; held: Held[] }> {
  const scope: Scope = {
    groups: new Map(),
    members: new Map(),
    apps: new Map(),
    roles: new Map(),
    assignments: new Map(),
    skus: new Map(),
    licensed: new Map(),
  };
  const unique = (pick: (m: Mapping) => string | undefined) => [
    ...new Set(mappings.flatMap((m) => (pick(m) === undefined ? [] : [pick(m)!]))),
  ];
  const memberIds = (id: string) => scope.members.get(id) ?? scope.members.set(id, new Set()).get(id)!;
  const remember = (users: EntraUser[], into: Set<string>) => {
    for (const user of users) {
      directory.remember(user);
      into.add(user.id);
    }
  };
  const assignments = new Map<string, Assignment[]>();
  const holders = new Map<string, LicensedUser[]>();
  await crawl(graph, [
    ...unique((m) => m.group).flatMap((setting) => {
      let id: string | undefined;
      const early: EntraUser[] = [];
      return groupReads(
        graph,
        setting,
        (group) => {
          id = group.id;
          scope.groups.set(setting, group);
          remember(early, memberIds(group.id));
        },
        // Members of a group named by id may come in before the group itself.
        (users) => (id ? remember(users, memberIds(id)) : early.push(...users)),
        directory.fields,
      );
    }),
    ...unique((m) => m.app).flatMap((setting) =>
      appReads(
        graph,
        setting,
        (app) => {
          const first = ![...scope.apps.values()].some((a) => a.id === app.id);
          scope.apps.set(setting, app);
          return first;
        },
        (items) => {
          const id = scope.apps.get(setting)!.id;
          assignments.set(id, [...(assignments.get(id) ?? []), ...items]);
        },
      ),
    ),
    ...(unique((m) => m.sku).length === 0
      ? []
      : skuReads(
          graph,
          unique((m) => m.sku),
          (setting, sku) => scope.skus.set(setting, seats(sku)),
          (skuId, users) => holders.set(skuId, [...(holders.get(skuId) ?? []), ...users]),
          directory.fields,
        )),
  ]);

  // One licence, one tier: a holder would otherwise hold two tiers at once.
  const tiers = new Map<string, string>();
  for (const m of mappings.filter((m) => m.sku !== undefined)) {
    const { skuId, name } = scope.skus.get(m.sku!)!;
    const other = tiers.get(skuId);
    if (other)
      throw new ReadRefused(`tiers ${other} and ${m.id} are the same licence ${name}: one tier a licence`);
    tiers.set(skuId, m.id);
  }
  for (const m of mappings.filter((m) => m.role !== undefined))
    scope.roles.set(m.id, findRole(scope.apps.get(m.app!)!, m.role!).id.toLowerCase());
  const managedRoles = new Set(scope.roles.values());
  const strangers: string[] = [];
  for (const [id, items] of assignments) {
    const app = [...scope.apps.values()].find((a) => a.id === id)!;
    const groups = new Set<string>();
    for (const a of items) {
      if (!managedRoles.has(a.appRoleId.toLowerCase())) continue;
      if (a.principalType === 'Group') groups.add(a.principalDisplayName ?? a.principalId);
      if (a.principalType === 'User') strangers.push(a.principalId);
      scope.assignments.set(assignmentKey(app.id, a.principalId, a.appRoleId), a.id);
    }
    if (groups.size > 0)
      notice(
        `managed app roles of ${JSON.stringify(app.displayName ?? id)} are also assigned to ${groups.size} group${groups.size === 1 ? '' : 's'} (${[...groups].slice(0, 5).join(', ')}): their members hold them through the group, which iden neither counts nor changes`,
      );
  }
  // Holders of app roles are listed by object id only: the ones not met in a group or licence are looked up.
  for (const users of holders.values()) for (const user of users) directory.remember(user);
  await directory.resolveIds(graph, strangers);
  // iden import: each holder's manager, for _people.yaml's manager attribute.
  if (directory.importing) await directory.resolveManagers(graph);

  const held: Held[] = [];
  for (const m of mappings) {
    if (m.group !== undefined) {
      const group = scope.groups.get(m.group)!;
      for (const id of scope.members.get(group.id) ?? []) {
        const user = directory.byObjectId(id)!;
        const profile = directory.profileOf(user);
        held.push({ account: directory.accountOf(user), entitlement: m.id, ...(profile ? { profile } : {}) });
      }
    }
    if (m.role !== undefined) {
      for (const a of assignments.get(scope.apps.get(m.app!)!.id) ?? []) {
        const user = a.principalType === 'User' ? directory.byObjectId(a.principalId) : undefined;
        // A user deleted since (still listed for a while) holds nothing.
        if (user && a.appRoleId.toLowerCase() === scope.roles.get(m.id)) {
          const profile = directory.profileOf(user);
          held.push({
            account: directory.accountOf(user),
            entitlement: m.id,
            ...(profile ? { profile } : {}),
          });
        }
      }
    }
    if (m.sku !== undefined) held.push(...licenceHolders(scope, directory, m, holders));
  }
  return { scope, held };
}
