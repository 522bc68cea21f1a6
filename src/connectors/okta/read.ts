import type { OktaClient } from './client.js';

/** The parts of Okta's objects the connector reads (a narrow view of the Management API's schemas). */
export interface OktaUser {
  id: string;
  status?: string;
  /** When the user last signed in to Okta; null: never. */
  lastLogin?: string | null;
  profile?: {
    login?: string;
    email?: string;
    firstName?: string | null;
    lastName?: string | null;
    department?: string | null;
    title?: string | null;
    /** Okta's free-text id of the user's manager: another user's id, where an org sets it so. */
    managerId?: string | null;
  };
}

export interface OktaGroup {
  id: string;
  type?: 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';
  profile?: { name?: string };
}

export interface GroupRule {
  id: string;
  name?: string;
  status?: 'ACTIVE' | 'INACTIVE' | 'INVALID';
  actions?: { assignUserToGroups?: { groupIds?: string[] } };
  conditions?: { people?: { users?: { exclude?: string[] } } };
}

export interface OktaApp {
  id: string;
  label: string;
  status?: string;
}

export interface AppUser {
  id: string;
  scope?: 'USER' | 'GROUP';
  profile?: Record<string, unknown>;
  _embedded?: { user?: OktaUser };
  _links?: { group?: { name?: string } };
}

export interface RoleAssignment {
  id?: string;
  type: string;
  assignmentType?: 'USER' | 'GROUP' | 'CLIENT';
}

/** Page sizes: the most each list hands out (Okta's own default for group members, which it may lower). */
export const PAGE = {
  groupUsers: 1000,
  appUsers: 500,
  users: 200,
  rules: 200,
  groups: 200,
  roleHolders: 100,
};
/** Terms in one search or filter expression: short enough for any proxy's URL limit. */
export const TERMS_PER_QUERY = 50;

/** A value quoted for Okta's filter and search expressions. */
export function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups by id, fifty to a request (`filter=id eq … or …`). */
export async function groupsById(client: OktaClient, ids: readonly string[]): Promise<OktaGroup[]> {
  const found: OktaGroup[] = [];
  for (const batch of chunks(ids, TERMS_PER_QUERY))
    found.push(
      ...(await client.list<OktaGroup>('/api/v1/groups', {
        filter: batch.map((id) => `id eq ${quoted(id)}`).join(' or '),
        limit: PAGE.groups,
      })),
    );
  return found;
}

/** Groups by name, fifty to a request (`search=profile.name eq … or …`); a name may match several. */
export async function groupsByName(client: OktaClient, names: readonly string[]): Promise<OktaGroup[]> {
  const found: OktaGroup[] = [];
  for (const batch of chunks(names, TERMS_PER_QUERY))
    found.push(
      ...(await client.list<OktaGroup>('/api/v1/groups', {
        search: batch.map((name) => `profile.name eq ${quoted(name)}`).join(' or '),
        limit: PAGE.groups,
      })),
    );
  return found;
}

/** Every member of a group, page by page. */
export function groupMembers(client: OktaClient, groupId: string): Promise<OktaUser[]> {
  return client.list<OktaUser>(`/api/v1/groups/${encodeURIComponent(groupId)}/users`, {
    limit: PAGE.groupUsers,
  });
}

/** Every group rule of the org: what tells a group fed by a rule. */
export function groupRules(client: OktaClient): Promise<GroupRule[]> {
  return client.list<GroupRule>('/api/v1/groups/rules', { limit: PAGE.rules });
}

/** Apps whose name or label starts with the label (Okta's `q`); the caller keeps exact matches. */
export async function appsLabelled(client: OktaClient, label: string): Promise<OktaApp[]> {
  const { data } = await client.call<OktaApp[]>('GET', '/api/v1/apps', { query: { q: label, limit: 200 } });
  return Array.isArray(data) ? data : [];
}

/** Every user assigned to an app, with their Okta user embedded (for the login). */
export function appUsers(client: OktaClient, appId: string): Promise<AppUser[]> {
  return client.list<AppUser>(`/api/v1/apps/${encodeURIComponent(appId)}/users`, {
    limit: PAGE.appUsers,
    expand: 'user',
  });
}

/** The ids of every user holding an admin role (directly or through a group); paged in the body. */
export async function roleHolders(client: OktaClient): Promise<string[]> {
  const ids: string[] = [];
  type Page = { value?: { id?: string }[]; _links?: { next?: { href?: string } } };
  let page = await client.call<Page>('GET', '/api/v1/iam/assignees/users', {
    query: { limit: PAGE.roleHolders },
  });
  for (let n = 0; n < 100_000; n++) {
    for (const u of page.data?.value ?? []) if (u.id) ids.push(u.id);
    const next = page.data?._links?.next?.href ?? page.next;
    if (!next) return ids;
    page = await client.call<Page>('GET', next);
  }
  throw new Error('GET /api/v1/iam/assignees/users: too many pages; stopped');
}

export async function userRoles(client: OktaClient, userId: string): Promise<RoleAssignment[]> {
  const { data } = await client.call<RoleAssignment[]>(
    'GET',
    `/api/v1/users/${encodeURIComponent(userId)}/roles`,
  );
  return Array.isArray(data) ? data : [];
}

/** One user by id or login (strongly consistent, unlike search). */
export async function user(client: OktaClient, idOrLogin: string, forWrite = false): Promise<OktaUser> {
  const { data } = await client.call<OktaUser>('GET', `/api/v1/users/${encodeURIComponent(idOrLogin)}`, {
    forWrite,
  });
  return data;
}

/** Users by login, fifty to a request (`search=profile.login eq … or …`), for the grants that name them. */
export async function usersByLogin(client: OktaClient, logins: readonly string[]): Promise<OktaUser[]> {
  const found: OktaUser[] = [];
  for (const batch of chunks(logins, TERMS_PER_QUERY))
    found.push(
      ...(await client.list<OktaUser>(
        '/api/v1/users',
        {
          search: batch.map((login) => `profile.login eq ${quoted(login)}`).join(' or '),
          limit: PAGE.users,
        },
        true,
      )),
    );
  return found;
}
