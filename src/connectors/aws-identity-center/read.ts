import {
  DescribeGroupCommand,
  GetGroupIdCommand,
  GetUserIdCommand,
  ListGroupMembershipsCommand,
  ListUsersCommand,
} from '@aws-sdk/client-identitystore';
import {
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
} from '@aws-sdk/client-sso-admin';
import type { Clients } from './client.js';
import { notFound } from './errors.js';

/** The largest page every list operation here allows (MaxResults 1–100 in both models). */
export const PAGE = 100;

/** A listing that did not end as AWS's paging promises: never used as complete. */
export class PagingError extends Error {}

/**
 * Every item of a paged listing, following NextToken to its end. A token
 * that comes back again would loop for ever: that listing is refused.
 */
export async function everyPage<T>(
  what: string,
  page: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const { items, next } = await page(token);
    all.push(...(items ?? []));
    if (next !== undefined && seen.has(next))
      throw new PagingError(`${what}: AWS sent the same NextToken twice`);
    if (next !== undefined) seen.add(next);
    token = next || undefined;
  } while (token !== undefined);
  return all;
}

export interface Instance {
  instanceArn: string;
  identityStoreId: string;
}

/** The account's one Identity Center instance; none or several is a setting to make. */
export async function findInstance(clients: Clients): Promise<Instance> {
  const instances = await everyPage('listing Identity Center instances', async (NextToken) => {
    const out = await clients.admin.send(new ListInstancesCommand({ MaxResults: PAGE, NextToken }));
    return { items: out.Instances, next: out.NextToken };
  });
  const usable = instances.filter((i) => i.InstanceArn && i.IdentityStoreId);
  if (usable.length !== 1)
    throw new PagingError(
      usable.length === 0
        ? 'no IAM Identity Center instance in this account and Region: check region (the instance home Region)'
        : `${usable.length} Identity Center instances: set instanceArn and identityStoreId in the connector block`,
    );
  return { instanceArn: usable[0]!.InstanceArn!, identityStoreId: usable[0]!.IdentityStoreId! };
}

export interface StoreUser {
  id: string;
  name: string;
}

/** Every user of the Identity Store: ids to names for what is read, names to ids for what is written. */
export async function listUsers(clients: Clients, IdentityStoreId: string): Promise<StoreUser[]> {
  const users = await everyPage('listing Identity Store users', async (NextToken) => {
    const out = await clients.store.send(
      new ListUsersCommand({ IdentityStoreId, MaxResults: PAGE, NextToken }),
    );
    return { items: out.Users, next: out.NextToken };
  });
  return users.flatMap((u) => (u.UserId && u.UserName ? [{ id: u.UserId, name: u.UserName }] : []));
}

/** One user's id by user name, for a user made after the listing; undefined when there is none. */
export async function userId(
  clients: Clients,
  IdentityStoreId: string,
  name: string,
): Promise<string | undefined> {
  try {
    const out = await clients.store.send(
      new GetUserIdCommand({
        IdentityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: name } },
      }),
    );
    return out.UserId;
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

/** A group's id by display name; a missing group is an error to fix in AWS (iden creates none). */
export async function groupId(clients: Clients, IdentityStoreId: string, name: string): Promise<string> {
  try {
    const out = await clients.store.send(
      new GetGroupIdCommand({
        IdentityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: name } },
      }),
    );
    return out.GroupId!;
  } catch (e) {
    if (notFound(e))
      throw new PagingError(
        `no group named ${JSON.stringify(name)} in the Identity Store; create it in AWS first`,
      );
    throw e;
  }
}

/** A group's display name, for saying which group feeds access. */
export async function groupName(clients: Clients, IdentityStoreId: string, GroupId: string): Promise<string> {
  const out = await clients.store.send(new DescribeGroupCommand({ IdentityStoreId, GroupId }));
  return out.DisplayName ?? GroupId;
}

/** A group's members (users only): user id to membership id. */
export async function groupMembers(
  clients: Clients,
  IdentityStoreId: string,
  GroupId: string,
): Promise<Map<string, string>> {
  const memberships = await everyPage(`listing the members of group ${GroupId}`, async (NextToken) => {
    const out = await clients.store.send(
      new ListGroupMembershipsCommand({ IdentityStoreId, GroupId, MaxResults: PAGE, NextToken }),
    );
    return { items: out.GroupMemberships, next: out.NextToken };
  });
  const members = new Map<string, string>();
  for (const m of memberships) {
    const user = m.MemberId && 'UserId' in m.MemberId ? m.MemberId.UserId : undefined;
    if (user && m.MembershipId) members.set(user, m.MembershipId);
  }
  return members;
}

const ARN = /^arn:aws[a-z-]*:sso:::permissionSet\//;

/**
 * The ARN of each permission set named: an ARN stands for itself; names are
 * found by listing the instance's permission sets and describing them, only
 * until every name is found.
 */
export async function permissionSetArns(
  clients: Clients,
  InstanceArn: string,
  refs: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const ref of refs) if (ARN.test(ref)) found.set(ref, ref);
  const names = new Set(refs.filter((r) => !found.has(r)));
  if (names.size === 0) return found;
  const arns = await everyPage('listing permission sets', async (NextToken) => {
    const out = await clients.admin.send(
      new ListPermissionSetsCommand({ InstanceArn, MaxResults: PAGE, NextToken }),
    );
    return { items: out.PermissionSets, next: out.NextToken };
  });
  for (const PermissionSetArn of arns) {
    if ([...names].every((n) => found.has(n))) break;
    const out = await clients.admin.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn }));
    const name = out.PermissionSet?.Name;
    if (name && names.has(name)) found.set(name, PermissionSetArn);
  }
  const missing = [...names].filter((n) => !found.has(n));
  if (missing.length > 0)
    throw new PagingError(
      `no permission set named ${missing.map((n) => JSON.stringify(n)).join(', ')} in the instance; create it in AWS first`,
    );
  return found;
}

export interface Principal {
  type: 'USER' | 'GROUP';
  id: string;
}

/** Who holds a permission set in one account: users and groups. */
export async function assignments(
  clients: Clients,
  InstanceArn: string,
  AccountId: string,
  PermissionSetArn: string,
): Promise<Principal[]> {
  const list = await everyPage(
    `listing assignments of ${PermissionSetArn} in ${AccountId}`,
    async (NextToken) => {
      const out = await clients.admin.send(
        new ListAccountAssignmentsCommand({
          InstanceArn,
          AccountId,
          PermissionSetArn,
          MaxResults: PAGE,
          NextToken,
        }),
      );
      return { items: out.AccountAssignments, next: out.NextToken };
    },
  );
  return list.flatMap((a) =>
    a.PrincipalId && (a.PrincipalType === 'USER' || a.PrincipalType === 'GROUP')
      ? [{ type: a.PrincipalType, id: a.PrincipalId }]
      : [],
  );
}
