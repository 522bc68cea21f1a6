import type { Held } from '../types.js';
import type { Clients } from './client.js';
import {
  assignments,
  findInstance,
  groupId,
  groupMembers,
  groupName,
  type Instance,
  listUsers,
  permissionSetArns,
  type StoreUser,
} from './read.js';
import type { AwsIdentityCenterConnector, AwsIdentityCenterEntitlement } from './settings.generated.js';

export interface StoreGroup {
  id: string;
  name: string;
  /** User id to membership id. */
  members: Map<string, string>;
}

/** What observe read that the steps need: ids for names, and who holds what. */
export interface CenterState {
  instance: Instance;
  /** Users by lower-cased user name. */
  users: Map<string, StoreUser>;
  /** The managed groups, by display name. */
  groups: Map<string, StoreGroup>;
  /** Permission-set ARNs, by the name or ARN _app.yaml gives. */
  permissionSets: Map<string, string>;
  /** User ids holding a permission set directly, by `arn account`. */
  direct: Map<string, Set<string>>;
}

export const slot = (arn: string, account: string) => `${arn} ${account}`;

/**
 * Reads the managed scope: every user once (ids to names), each managed
 * group's members, and the assignments of each managed permission set in
 * each of its accounts. Groups assigned a managed permission set are read
 * too, so that their members' access shows as held through the group.
 */
export async function observeCenter(
  clients: Clients,
  settings: AwsIdentityCenterConnector,
  entitlements: readonly AwsIdentityCenterEntitlement[],
  notice: (text: string) => void,
): Promise<{ state: CenterState; held: Held[] }> {
  const instance =
    settings.instanceArn && settings.identityStoreId
      ? { instanceArn: settings.instanceArn, identityStoreId: settings.identityStoreId }
      : await findInstance(clients);
  const storeId = instance.identityStoreId;
  const list = await listUsers(clients, storeId);
  const users = new Map(list.map((u) => [u.name.toLowerCase(), u]));
  const names = new Map(list.map((u) => [u.id, u.name]));

  const groups = new Map<string, StoreGroup>();
  for (const name of new Set(entitlements.flatMap((e) => (e.kind === 'group' && e.group ? [e.group] : [])))) {
    const id = await groupId(clients, storeId, name);
    groups.set(name, { id, name, members: await groupMembers(clients, storeId, id) });
  }
  const sets = entitlements.filter((e) => e.kind === 'permission-set');
  const permissionSets = await permissionSetArns(clients, instance.instanceArn, [
    ...new Set(sets.map((e) => e.permissionSet!)),
  ]);
  const direct = new Map<string, Set<string>>();
  const throughGroups = new Map<string, Set<string>>();
  for (const e of sets) {
    const arn = permissionSets.get(e.permissionSet!)!;
    for (const account of e.accounts ?? []) {
      const key = slot(arn, account);
      if (direct.has(key)) continue;
      const principals = await assignments(clients, instance.instanceArn, account, arn);
      direct.set(key, new Set(principals.filter((p) => p.type === 'USER').map((p) => p.id)));
      throughGroups.set(key, new Set(principals.filter((p) => p.type === 'GROUP').map((p) => p.id)));
    }
  }
  const feeding = await feedingGroups(clients, storeId, groups, throughGroups);

  const held: Held[] = [];
  const unknown = new Set<string>();
  const nameOf = (id: string) => {
    const name = names.get(id);
    if (name === undefined) unknown.add(id);
    return name;
  };
  for (const e of entitlements) {
    if (e.kind === 'group') {
      for (const id of groups.get(e.group!)!.members.keys()) {
        const account = nameOf(id);
        if (account !== undefined) held.push({ account, entitlement: e.id });
      }
      continue;
    }
    const arn = permissionSets.get(e.permissionSet!)!;
    const accounts = e.accounts ?? [];
    const holders = new Set(accounts.flatMap((a) => [...direct.get(slot(arn, a))!]));
    for (const id of holders) {
      const account = nameOf(id);
      if (account === undefined) continue;
      const missing = accounts.filter((a) => !direct.get(slot(arn, a))!.has(id));
      held.push({
        account,
        entitlement: e.id,
        ...(missing.length > 0 ? { incomplete: `not assigned in ${missing.join(', ')}` } : {}),
      });
    }
    // Held through groups alone, in every account: access iden does not manage.
    const via = new Map<string, Set<string>>();
    for (const a of accounts)
      for (const g of throughGroups.get(slot(arn, a))!)
        for (const id of feeding.get(g)?.members.keys() ?? []) {
          if (!via.has(id)) via.set(id, new Set());
          via.get(id)!.add(feeding.get(g)!.name);
        }
    for (const [id, through] of via) {
      if (holders.has(id)) continue;
      const everywhere = accounts.every((a) =>
        [...throughGroups.get(slot(arn, a))!].some((g) => feeding.get(g)?.members.has(id)),
      );
      const account = names.get(id);
      if (!everywhere || account === undefined) continue;
      held.push({
        account,
        entitlement: e.id,
        external: `through group ${[...through].map((n) => JSON.stringify(n)).join(', ')}`,
      });
    }
  }
  if (unknown.size > 0)
    notice(
      `${unknown.size} member${unknown.size === 1 ? '' : 's'} of managed groups or assignments are not users the Identity Store lists (deleted meanwhile?): left alone`,
    );
  return { state: { instance, users, groups, permissionSets, direct }, held };
}

/** The groups a managed permission set is assigned to, with their members: read once each. */
async function feedingGroups(
  clients: Clients,
  storeId: string,
  managed: Map<string, StoreGroup>,
  throughGroups: Map<string, Set<string>>,
): Promise<Map<string, StoreGroup>> {
  const byId = new Map([...managed.values()].map((g) => [g.id, g]));
  const out = new Map<string, StoreGroup>();
  for (const id of new Set([...throughGroups.values()].flatMap((s) => [...s]))) {
    const known = byId.get(id);
    out.set(
      id,
      known ?? {
        id,
        name: await groupName(clients, storeId, id),
        members: await groupMembers(clients, storeId, id),
      },
    );
  }
  return out;
}
