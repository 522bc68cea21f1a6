import { ObserveError, TerminalError } from '../types.js';
import { describe, failure } from './errors.js';
import type { Answer, Api, Call, GoogleClient } from './transport.js';

/** Group roles from least to most: a higher role gives what a lower one gives. */
export const ROLES = ['MEMBER', 'MANAGER', 'OWNER'] as const;
export type Role = (typeof ROLES)[number];

/** A direct member of a group, as members.list gives it. */
export interface GroupMember {
  email: string;
  role: Role;
  /** USER, GROUP or CUSTOMER (the whole domain). */
  type: string;
}

/** The largest pages each list allows: members.list 200, listForProductAndSku 1000. */
export const MEMBERS_PAGE = 200;
export const LICENCES_PAGE = 1000;

export const enc = encodeURIComponent;

/**
 * Every page of a list, by nextPageToken: a page that cannot be read throws,
 * so a list is never taken as shorter than it is. A token seen twice is a
 * loop, not a list.
 */
export async function pages(
  client: GoogleClient,
  api: Api,
  call: Call,
  what: string,
  adminEmail: string,
  onPage: (body: Record<string, unknown>) => void,
): Promise<number> {
  const seen = new Set<string>();
  let pageToken: string | undefined;
  let count = 0;
  do {
    const answer: Answer = await client.call(api, { ...call, query: { ...call.query, pageToken } });
    count++;
    if (answer.status !== 200) {
      if (answer.status === 404)
        throw new TerminalError(
          `${what}: ${describe(answer)}; correct the group's address, or the tier's productId and skuId, in _app.yaml`,
        );
      throw failure(answer, what, adminEmail);
    }
    onPage(answer.body);
    const next = answer.body.nextPageToken;
    pageToken = typeof next === 'string' && next !== '' ? next : undefined;
    if (pageToken !== undefined && seen.has(pageToken))
      throw new ObserveError(`${what}: Google gave the same page token twice`);
    if (pageToken !== undefined) seen.add(pageToken);
  } while (pageToken !== undefined);
  return count;
}

/** The direct members of a group, with their roles; nested groups are members of type GROUP. */
export async function listMembers(
  client: GoogleClient,
  api: Api,
  group: string,
  adminEmail: string,
): Promise<GroupMember[]> {
  const members: GroupMember[] = [];
  const what = `reading the members of ${group}`;
  await pages(
    client,
    api,
    {
      method: 'GET',
      path: `admin/directory/v1/groups/${enc(group)}/members`,
      query: { maxResults: MEMBERS_PAGE },
    },
    what,
    adminEmail,
    (body) => {
      const list = body.members ?? [];
      if (!Array.isArray(list)) throw new ObserveError(`${what}: members is not a list`);
      for (const m of list as Record<string, unknown>[]) {
        const role = String(m.role ?? 'MEMBER').toUpperCase();
        const type = String(m.type ?? 'USER').toUpperCase();
        // The whole domain (CUSTOMER) has an id and no address.
        const email = typeof m.email === 'string' ? m.email : String(m.id ?? '');
        if (!(ROLES as readonly string[]).includes(role))
          throw new ObserveError(`${what}: ${email} has a role Google does not document (${role})`);
        members.push({ email, role: role as Role, type });
      }
    },
  );
  return members;
}

/** The users holding a product's SKU (their primary addresses). */
export async function listAssignments(
  client: GoogleClient,
  api: Api,
  customer: string,
  productId: string,
  skuId: string,
  adminEmail: string,
): Promise<string[]> {
  const users: string[] = [];
  const what = `reading the licences of ${productId}/${skuId}`;
  await pages(
    client,
    api,
    {
      method: 'GET',
      path: `apps/licensing/v1/product/${enc(productId)}/sku/${enc(skuId)}/users`,
      query: { customerId: customer, maxResults: LICENCES_PAGE },
    },
    what,
    adminEmail,
    (body) => {
      const items = body.items ?? [];
      if (!Array.isArray(items)) throw new ObserveError(`${what}: items is not a list`);
      for (const item of items as Record<string, unknown>[])
        if (typeof item.userId === 'string') users.push(item.userId);
    },
  );
  return users;
}

/** The largest page users.list allows. */
const USERS_PAGE = 500;
/** What users.list says of a user who never signed in: the epoch. */
const NEVER = Date.UTC(1970, 0, 1);

/**
 * Every user of the customer (or of the admin's domain), a page of 500 at a
 * time, each with the names it is known by: its primary address and aliases,
 * lower-case. `query` adds to the listing's (a projection, a partial response).
 */
export async function eachUser(
  client: GoogleClient,
  api: Api,
  scope: { customer: string } | { domain: string },
  query: Record<string, string>,
  what: string,
  adminEmail: string,
  onUser: (user: Record<string, unknown>, names: string[]) => void,
): Promise<void> {
  await pages(
    client,
    api,
    {
      method: 'GET',
      path: 'admin/directory/v1/users',
      query: { ...scope, maxResults: USERS_PAGE, ...query },
    },
    what,
    adminEmail,
    (body) => {
      const list = body.users ?? [];
      if (!Array.isArray(list)) throw new ObserveError(`${what}: users is not a list`);
      for (const u of list as Record<string, unknown>[]) {
        if (typeof u.primaryEmail !== 'string') continue;
        const aliases = Array.isArray(u.aliases) ? u.aliases.filter((a) => typeof a === 'string') : [];
        onUser(
          u,
          [u.primaryEmail, ...aliases].map((name) => name.toLowerCase()),
        );
      }
    },
  );
}

/**
 * Each user's last sign-in (lastLoginTime), by primary address and alias
 * (lower-case), for access reviews: every user of the customer (or of the
 * admin's domain), a page of 500 at a time. Null: never signed in.
 */
export async function listLastLogins(
  client: GoogleClient,
  api: Api,
  scope: { customer: string } | { domain: string },
  adminEmail: string,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  await eachUser(client, api, scope, {}, 'reading when each user last signed in', adminEmail, (u, names) => {
    const at = typeof u.lastLoginTime === 'string' ? Date.parse(u.lastLoginTime) : Number.NaN;
    // Absent or unreadable: not known, so left out; the epoch: never.
    if (Number.isNaN(at)) return;
    const value = at <= NEVER ? null : new Date(at).toISOString();
    for (const name of names) out.set(name, value);
  });
  return out;
}
