/**
 * An in-memory Google Workspace as the Directory and License Manager APIs
 * show it: users (with aliases), groups whose members have one role each,
 * and SKUs with their assignments and a number of licences bought. Handlers
 * by Discovery method id, answering as Google does, errors included.
 */

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Role = 'MEMBER' | 'MANAGER' | 'OWNER';
const ROLES = ['MEMBER', 'MANAGER', 'OWNER'];

/** Google's error envelope: the code, the message, and its reason. */
export function googleError(code: number, reason: string, message: string, status?: string): Reply {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        errors: [{ message, domain: 'global', reason }],
        ...(status ? { status } : {}),
      },
    },
  };
}

const notFound = (what: string) => googleError(404, 'notFound', `Resource Not Found: ${what}`, 'NOT_FOUND');

/** Page tokens are opaque to callers: the offset, encoded. */
const token = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
const offsetOf = (pageToken: string | null) => {
  if (!pageToken) return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(pageToken, 'base64url').toString());
  return m ? Number(m[1]) : -1;
};

interface Profile {
  fullName?: string;
  orgUnitPath?: string;
  organizations?: {
    name?: string;
    primary?: boolean;
    type?: string;
    department?: string;
    title?: string;
    description?: string;
  }[];
  relations?: { value: string; type: string; customType?: string }[];
}
type WorkspaceUser = { primaryEmail: string; aliases: string[]; lastLoginTime?: string } & Profile;

/** The name users.list gives: the full name, or one made of the address's local part. */
function nameOf(u: WorkspaceUser) {
  const fullName = u.fullName ?? u.primaryEmail.split('@')[0]!;
  const [givenName, ...rest] = fullName.split(' ');
  return { givenName, familyName: rest.join(' ') || givenName, fullName };
}

/**
 * A partial response (the `fields` system parameter) of a user in
 * `users(a,b,name/fullName)`: only the fields it names, a sub-field alone
 * of an object; the whole user without it.
 */
function partial(user: Record<string, unknown>, fields: string | null): Record<string, unknown> {
  const inner = fields === null ? undefined : /(?:^|,)users\(([^)]*)\)/.exec(fields)?.[1];
  if (inner === undefined) return user;
  const out: Record<string, unknown> = {};
  for (const field of inner.split(',')) {
    const [top, sub] = field.split('/') as [string, string | undefined];
    if (!(top in user)) continue;
    if (sub === undefined) out[top] = user[top];
    else {
      const value = (user[top] as Record<string, unknown>)[sub];
      if (value !== undefined) out[top] = { ...((out[top] as object) ?? {}), [sub]: value };
    }
  }
  return out;
}

export class Workspace {
  readonly customerId = 'C0iden42';
  readonly domains = ['acme.com'];
  /** Users by lower-case primary address. */
  readonly users = new Map<string, WorkspaceUser>();
  /** Groups by lower-case address: members by lower-case address. */
  readonly groups = new Map<string, Map<string, { email: string; role: Role; type: string; id: string }>>();
  /** SKUs by `product/sku`: licences bought, and the holders by lower-case address. */
  readonly skus = new Map<string, { bought: number; holders: Map<string, string> }>();
  private nextId = 1000;

  /** A user; `lastLoginTime` absent: never signed in (Google then says the epoch). */
  addUser(email: string, aliases: string[] = [], lastLoginTime?: string): void {
    this.users.set(email.toLowerCase(), {
      primaryEmail: email,
      aliases,
      ...(lastLoginTime ? { lastLoginTime } : {}),
    });
  }

  /** A user's profile as the Admin console keeps it: full name, organizational unit, organizations, relations. */
  setProfile(email: string, profile: Profile): void {
    Object.assign(this.users.get(email.toLowerCase())!, profile);
  }

  addGroup(email: string): Map<string, { email: string; role: Role; type: string; id: string }> {
    const members = new Map();
    this.groups.set(email.toLowerCase(), members);
    return members;
  }

  setMember(group: string, email: string, role: Role = 'MEMBER', type = 'USER'): void {
    this.groups
      .get(group.toLowerCase())!
      .set(email.toLowerCase(), { email, role, type, id: String(this.nextId++) });
  }

  /** A group's members as `address role`, sorted, for assertions. */
  members(group: string): string[] {
    return [...(this.groups.get(group.toLowerCase())?.values() ?? [])]
      .map((m) => `${m.email} ${m.role}`)
      .sort();
  }

  addSku(productId: string, skuId: string, bought: number): void {
    this.skus.set(`${productId}/${skuId}`, { bought, holders: new Map() });
  }

  holders(productId: string, skuId: string): string[] {
    return [...(this.skus.get(`${productId}/${skuId}`)?.holders.values() ?? [])].sort();
  }

  /** The user an address names, by primary address or alias. */
  private user(address: string) {
    const lower = address.toLowerCase();
    return (
      this.users.get(lower) ??
      [...this.users.values()].find((u) => u.aliases.some((a) => a.toLowerCase() === lower))
    );
  }

  private member(m: { email: string; role: Role; type: string; id: string }) {
    return {
      kind: 'admin#directory#member',
      etag: `"m${m.id}"`,
      id: m.id,
      email: m.email,
      role: m.role,
      type: m.type,
      status: 'ACTIVE',
    };
  }

  private assignment(productId: string, skuId: string, userId: string) {
    return {
      kind: 'licensing#licenseAssignment',
      etags: `"${productId}/${skuId}/${userId}"`,
      productId,
      skuId,
      userId,
      selfLink: `https://licensing.googleapis.com/apps/licensing/v1/product/${productId}/sku/${skuId}/user/${userId}`,
    };
  }

  /** Google's answer to one call of a method, by the method's id. */
  handle(
    id: string,
    p: Record<string, string>,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): Reply {
    const group = p.groupKey ? this.groups.get(p.groupKey.toLowerCase()) : undefined;
    if (id.startsWith('directory.members.') && !group) return notFound('groupKey');
    const memberOf = (key: string) => {
      const user = this.user(key);
      return group!.get((user?.primaryEmail ?? key).toLowerCase());
    };
    switch (id) {
      case 'directory.users.list': {
        // Google requires customer or domain; the connector names the customer id or the admin's domain.
        const customer = query.get('customer');
        const domain = query.get('domain');
        if (customer === null && domain === null)
          return googleError(400, 'badRequest', 'Bad Request: customer or domain', 'INVALID_ARGUMENT');
        if (
          (customer !== null && customer !== this.customerId && customer !== 'my_customer') ||
          (domain !== null && !this.domains.includes(domain.toLowerCase()))
        )
          return notFound('customer');
        const max = Math.min(500, Number(query.get('maxResults') ?? 100));
        const offset = offsetOf(query.get('pageToken'));
        if (offset < 0) return googleError(400, 'invalid', 'Invalid Input: pageToken', 'INVALID_ARGUMENT');
        const all = [...this.users.values()];
        const page = all.slice(offset, offset + max).map((u) => ({
          kind: 'admin#directory#user',
          id: `1${String(all.indexOf(u)).padStart(20, '0')}`,
          primaryEmail: u.primaryEmail,
          ...(u.aliases.length > 0 ? { aliases: u.aliases } : {}),
          isAdmin: false,
          suspended: false,
          lastLoginTime: u.lastLoginTime ?? '1970-01-01T00:00:00.000Z',
          customerId: this.customerId,
          name: nameOf(u),
          orgUnitPath: u.orgUnitPath ?? '/',
          ...(u.organizations ? { organizations: u.organizations } : {}),
          ...(u.relations ? { relations: u.relations } : {}),
        }));
        return {
          status: 200,
          body: {
            kind: 'admin#directory#users',
            etag: `"users-${offset}"`,
            ...(page.length > 0 ? { users: page.map((u) => partial(u, query.get('fields'))) } : {}),
            ...(offset + max < all.length ? { nextPageToken: token(offset + max) } : {}),
          },
        };
      }
      case 'directory.members.list': {
        const max = Math.min(200, Number(query.get('maxResults') ?? 200));
        const offset = offsetOf(query.get('pageToken'));
        if (offset < 0) return googleError(400, 'invalid', 'Invalid Input: pageToken', 'INVALID_ARGUMENT');
        const roles = query.get('roles')?.split(',');
        const all = [...group!.values()].filter((m) => !roles || roles.includes(m.role));
        const page = all.slice(offset, offset + max).map((m) => this.member(m));
        return {
          status: 200,
          body: {
            kind: 'admin#directory#members',
            etag: `"members-${offset}"`,
            ...(page.length > 0 ? { members: page } : {}),
            ...(offset + max < all.length ? { nextPageToken: token(offset + max) } : {}),
          },
        };
      }
      case 'directory.members.get': {
        const m = memberOf(p.memberKey!);
        return m ? { status: 200, body: this.member(m) } : notFound('memberKey');
      }
      case 'directory.members.insert': {
        const email = typeof body.email === 'string' ? body.email : undefined;
        if (!email)
          return googleError(400, 'required', 'Missing required field: memberKey', 'INVALID_ARGUMENT');
        const role = (body.role ?? 'MEMBER') as Role;
        if (!ROLES.includes(role))
          return googleError(400, 'invalid', 'Invalid Input: role', 'INVALID_ARGUMENT');
        const user = this.user(email);
        const inDomain = this.domains.includes(email.slice(email.lastIndexOf('@') + 1).toLowerCase());
        // An address of the Workspace's own domain must be one of its users; any other is an outside member.
        if (!user && inDomain) return notFound('memberKey');
        const address = user?.primaryEmail ?? email;
        if (group!.has(address.toLowerCase()))
          return googleError(409, 'duplicate', 'Member already exists.', 'ALREADY_EXISTS');
        this.setMember(p.groupKey!, address, role);
        return { status: 200, body: this.member(group!.get(address.toLowerCase())!) };
      }
      case 'directory.members.patch':
      case 'directory.members.update': {
        const m = memberOf(p.memberKey!);
        if (!m) return notFound('memberKey');
        const role = (body.role ?? m.role) as Role;
        if (!ROLES.includes(role))
          return googleError(400, 'invalid', 'Invalid Input: role', 'INVALID_ARGUMENT');
        m.role = role;
        return { status: 200, body: this.member(m) };
      }
      case 'directory.members.delete': {
        const m = memberOf(p.memberKey!);
        if (!m) return notFound('memberKey');
        group!.delete(m.email.toLowerCase());
        return { status: 204 };
      }
    }
    return this.licensing(id, p, query, body);
  }

  private licensing(
    id: string,
    p: Record<string, string>,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): Reply {
    const sku = this.skus.get(`${p.productId}/${p.skuId}`);
    if (!sku) return googleError(404, 'notFound', 'Product or SKU not found', 'NOT_FOUND');
    const userOf = (address: string) => this.user(address);
    switch (id) {
      case 'licensing.licenseAssignments.listForProductAndSku': {
        if (query.get('customerId') !== this.customerId)
          return googleError(400, 'invalid', 'Invalid customerId', 'INVALID_ARGUMENT');
        const max = Number(query.get('maxResults') ?? 100);
        const offset = offsetOf(query.get('pageToken'));
        if (offset < 0) return googleError(400, 'invalid', 'Invalid Input: pageToken', 'INVALID_ARGUMENT');
        const all = [...sku.holders.values()];
        return {
          status: 200,
          body: {
            kind: 'licensing#licenseAssignmentList',
            etag: `"licences-${offset}"`,
            items: all.slice(offset, offset + max).map((u) => this.assignment(p.productId!, p.skuId!, u)),
            ...(offset + max < all.length ? { nextPageToken: token(offset + max) } : {}),
          },
        };
      }
      case 'licensing.licenseAssignments.insert': {
        const user = userOf(String(body.userId ?? ''));
        if (!user) return googleError(400, 'invalid', 'Invalid Input: userId', 'INVALID_ARGUMENT');
        const lower = user.primaryEmail.toLowerCase();
        if (sku.holders.has(lower))
          return googleError(
            409,
            'duplicate',
            'User already has a license for the specified product and SKU',
            'ALREADY_EXISTS',
          );
        const other = [...this.skus].find(
          ([k, s]) => k.startsWith(`${p.productId}/`) && s.holders.has(lower),
        );
        if (other)
          return googleError(
            412,
            'conditionNotMet',
            `User already has a license of ${other[0]}`,
            'FAILED_PRECONDITION',
          );
        if (sku.holders.size >= sku.bought)
          return googleError(412, 'conditionNotMet', 'Not enough available licenses', 'FAILED_PRECONDITION');
        sku.holders.set(lower, user.primaryEmail);
        return { status: 200, body: this.assignment(p.productId!, p.skuId!, user.primaryEmail) };
      }
      case 'licensing.licenseAssignments.patch': {
        const user = userOf(p.userId!);
        const lower = user?.primaryEmail.toLowerCase() ?? '';
        if (!user || !sku.holders.has(lower))
          return googleError(
            404,
            'notFound',
            'User does not have a license for specified sku and product',
            'NOT_FOUND',
          );
        const target = this.skus.get(`${p.productId}/${String(body.skuId ?? p.skuId)}`);
        if (!target) return googleError(400, 'invalid', 'Invalid Input: skuId', 'INVALID_ARGUMENT');
        if (target !== sku && target.holders.size >= target.bought)
          return googleError(412, 'conditionNotMet', 'Not enough available licenses', 'FAILED_PRECONDITION');
        sku.holders.delete(lower);
        target.holders.set(lower, user.primaryEmail);
        return {
          status: 200,
          body: this.assignment(p.productId!, String(body.skuId ?? p.skuId), user.primaryEmail),
        };
      }
      case 'licensing.licenseAssignments.delete': {
        const user = userOf(p.userId!);
        if (!user || !sku.holders.delete(user.primaryEmail.toLowerCase()))
          return googleError(
            404,
            'notFound',
            'User does not have a license for specified sku and product',
            'NOT_FOUND',
          );
        return { status: 200, body: {} };
      }
    }
    return googleError(501, 'notImplemented', `${id} is not modelled by this test server`, 'UNIMPLEMENTED');
  }
}
