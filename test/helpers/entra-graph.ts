import { randomBytes, randomUUID } from 'node:crypto';
import { Misuse, parseFilter, project } from './entra-query.js';
import type { App, Group, Tenant, User } from './entra-tenant.js';

export { Misuse };

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Graph's error body: code, message, and the request ids it always adds. */
export function odataError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return {
    status,
    ...(headers ? { headers } : {}),
    body: {
      error: {
        code,
        message,
        innerError: {
          date: '2026-11-27T12:00:00',
          'request-id': randomUUID(),
          'client-request-id': randomUUID(),
        },
      },
    },
  };
}

const notFound = (id: string) =>
  odataError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

/**
 * Collection pages as Graph serves them: 100 by default, `$top` up to 999,
 * and a nextLink carrying a skip token only this server issued, valid only
 * with the query it was issued for.
 */
export class Pager {
  private readonly tokens = new Map<string, { key: string; offset: number }>();

  constructor(private readonly base: () => string) {}

  page(path: string, query: URLSearchParams, items: unknown[]): Reply {
    const asked = query.has('$top') ? Number(query.get('$top')) : 100;
    if (!(asked >= 1 && asked <= 999))
      return odataError(
        400,
        'Request_BadRequest',
        `Invalid page size specified: '${asked}'. Must be between 1 and 999 inclusive.`,
      );
    // $expand on directory objects: at most 100 a page, whatever $top says (Graph's known limitation).
    const top = query.has('$expand') ? Math.min(asked, 100) : asked;
    if (top > 120 && query.get('$select')?.split(',').includes('signInActivity'))
      return odataError(400, 'Request_BadRequest', 'Invalid page size: at most 120 with signInActivity.');
    const rest = [...query].filter(([k]) => k !== '$skiptoken');
    const key = `${path}?${rest.map(([k, v]) => `${k}=${v}`).join('&')}`;
    let offset = 0;
    const token = query.get('$skiptoken');
    if (token !== null) {
      const issued = this.tokens.get(token);
      if (!issued || issued.key !== key)
        throw new Misuse(`GET ${path}: a $skiptoken this server never issued for this query`);
      offset = issued.offset;
    }
    const value = items.slice(offset, offset + top);
    const body: Record<string, unknown> = { value };
    if (offset + top < items.length) {
      const next = randomBytes(24).toString('base64url');
      this.tokens.set(next, { key, offset: offset + top });
      const params = [...rest, ['$skiptoken', next]].map(([k, v]) => `${k}=${encodeURIComponent(v!)}`);
      body['@odata.nextLink'] = `${this.base()}${path}?${params.join('&')}`;
    }
    return { status: 200, body };
  }
}

/** A user's signInActivity as Graph describes it: null fields where no sign-in is recorded. */
function signInActivity(user: User): Record<string, unknown> {
  const at = user.lastSuccessfulSignIn ?? null;
  return {
    lastSignInDateTime: at,
    lastSignInRequestId: null,
    lastNonInteractiveSignInDateTime: null,
    lastNonInteractiveSignInRequestId: null,
    lastSuccessfulSignInDateTime: at,
    lastSuccessfulSignInRequestId: null,
  };
}

/** Microsoft Graph's operations on the tenant, for the paths of the description the connector uses. */
export class GraphOperations {
  readonly pager: Pager;

  constructor(
    private readonly tenant: Tenant,
    private readonly base: () => string,
  ) {
    this.pager = new Pager(base);
  }

  userJson(user: User): Record<string, unknown> {
    const states = this.tenant.licenceStates(user);
    return {
      id: user.id,
      displayName: user.displayName ?? user.userPrincipalName.split('@')[0],
      userPrincipalName: user.userPrincipalName,
      mail: user.mail,
      department: user.department ?? null,
      jobTitle: user.jobTitle ?? null,
      employeeType: user.employeeType ?? null,
      usageLocation: user.usageLocation,
      accountEnabled: true,
      assignedLicenses: [...new Set(states.map((s) => s.skuId))].map((skuId) => ({
        skuId,
        disabledPlans: [],
      })),
      licenseAssignmentStates: states.map((s) => ({
        ...s,
        disabledPlans: [],
        state: 'Active',
        error: 'None',
        lastUpdatedDateTime: '2026-11-01T09:00:00Z',
      })),
    };
  }

  groupJson(group: Group): Record<string, unknown> {
    const { members: _, licenses: __, ...rest } = group;
    return { ...rest, mailNickname: group.displayName.replace(/\W/g, '') };
  }

  appJson(app: App): Record<string, unknown> {
    return {
      id: app.id,
      appId: app.appId,
      displayName: app.displayName,
      appRoles: app.appRoles,
      servicePrincipalType: 'Application',
      accountEnabled: true,
    };
  }

  /**
   * `$expand=manager` or `manager($select=…)`, as Graph answers it on a list
   * of users: the manager as a directoryObject with its @odata.type, only the
   * properties selected inside; absent where the user has none. Any other
   * expansion is a misuse.
   */
  private expanded(user: User, query: URLSearchParams): Record<string, unknown> {
    const expand = query.get('$expand');
    if (expand === null) return {};
    const m = /^manager(?:\(\$select=([\w,]+)\))?$/.exec(expand);
    if (!m) throw new Misuse(`$expand ${JSON.stringify(expand)}: not an expansion the connector uses`);
    const boss = user.manager !== undefined ? this.tenant.users.get(user.manager) : undefined;
    if (!boss) return {};
    const inner = new URLSearchParams(m[1] ? { $select: m[1] } : {});
    return { manager: { '@odata.type': '#microsoft.graph.user', ...project(this.userJson(boss), inner) } };
  }

  private list(
    path: string,
    query: URLSearchParams,
    items: Record<string, unknown>[],
    filterable: string[],
  ): Reply {
    const filter = parseFilter(query.get('$filter'), filterable);
    return this.pager.page(
      path,
      query,
      items.filter(filter).map((i) => project(i, query)),
    );
  }

  answer(
    method: string,
    template: string,
    p: Record<string, string>,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): Reply {
    const t = this.tenant;
    const group = p['group-id'] !== undefined ? t.groups.get(p['group-id']) : undefined;
    const app = p['servicePrincipal-id'] !== undefined ? t.apps.get(p['servicePrincipal-id']) : undefined;
    switch (`${method} ${template}`) {
      case 'GET /users':
        return this.list(
          path,
          query,
          // signInActivity only when selected, as Graph gives it, at most 120 a page with it.
          [...t.users.values()].map((u) => ({
            ...this.userJson(u),
            signInActivity: signInActivity(u),
            ...this.expanded(u, query),
          })),
          ['id', 'userPrincipalName', 'mail', 'assignedLicenses'],
        );
      case 'GET /groups':
        return this.list(
          path,
          query,
          [...t.groups.values()].map((g) => this.groupJson(g)),
          ['displayName'],
        );
      case 'GET /groups/{group-id}':
        return group
          ? { status: 200, body: project(this.groupJson(group), query) }
          : notFound(p['group-id']!);
      case 'GET /groups/{group-id}/members/microsoft.graph.user':
        if (!group) return notFound(p['group-id']!);
        return this.list(
          path,
          query,
          [...group.members].map((id) => this.userJson(t.users.get(id)!)),
          [],
        );
      case 'POST /groups/{group-id}/members/$ref':
        return this.addMember(group, p['group-id']!, body as { '@odata.id': string });
      case 'DELETE /groups/{group-id}/members/{directoryObject-id}/$ref': {
        if (!group) return notFound(p['group-id']!);
        if (!group.members.delete(p['directoryObject-id']!)) return notFound(p['directoryObject-id']!);
        return { status: 204 };
      }
      case 'GET /servicePrincipals':
        return this.list(
          path,
          query,
          [...t.apps.values()].map((a) => this.appJson(a)),
          ['appId', 'displayName'],
        );
      case 'GET /servicePrincipals/{servicePrincipal-id}':
        return app
          ? { status: 200, body: project(this.appJson(app), query) }
          : notFound(p['servicePrincipal-id']!);
      case 'GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo':
        if (!app) return notFound(p['servicePrincipal-id']!);
        return this.list(
          path,
          query,
          [...app.assignments.values()] as unknown as Record<string, unknown>[],
          [],
        );
      case 'POST /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo':
        return this.assign(app, p['servicePrincipal-id']!, body as Record<string, string>);
      case 'DELETE /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo/{appRoleAssignment-id}':
        if (!app) return notFound(p['servicePrincipal-id']!);
        if (!app.assignments.delete(p['appRoleAssignment-id']!)) return notFound(p['appRoleAssignment-id']!);
        return { status: 204 };
      case 'GET /subscribedSkus':
        return this.list(
          path,
          query,
          [...t.skus.values()].map((s) => ({
            id: `tenant_${s.skuId}`,
            accountId: 'tenant',
            accountName: 'Contoso',
            skuId: s.skuId,
            skuPartNumber: s.skuPartNumber,
            appliesTo: 'User',
            capabilityStatus: 'Enabled',
            consumedUnits: t.consumed(s.skuId),
            prepaidUnits: { enabled: s.enabled, suspended: 0, warning: 0, lockedOut: 0 },
            servicePlans: [],
            subscriptionIds: [randomUUID()],
          })),
          [],
        );
      case 'POST /users/{user-id}/assignLicense':
      case 'POST /users/{user-id}/microsoft.graph.assignLicense':
        return this.assignLicense(
          p['user-id']!,
          body as { addLicenses: { skuId: string }[]; removeLicenses: string[] },
        );
      default:
        throw new Misuse(`${method} ${template}: an operation the connector has no business calling`);
    }
  }

  private addMember(group: Group | undefined, id: string, body: { '@odata.id': string }): Reply {
    if (!group) return notFound(id);
    const m = new RegExp(`^${this.base().replace(/[.$]/g, (c) => `\\${c}`)}/directoryObjects/([^/]+)$`).exec(
      body['@odata.id'],
    );
    if (!m) throw new Misuse(`@odata.id ${body['@odata.id']} is not a directory object of this Graph`);
    const user = this.tenant.users.get(m[1]!);
    if (!user) return notFound(m[1]!);
    if (group.groupTypes.includes('DynamicMembership'))
      return odataError(400, 'Request_BadRequest', 'Insufficient privileges to complete the operation.');
    if (group.members.has(user.id))
      return odataError(
        400,
        'Request_BadRequest',
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    group.members.add(user.id);
    return { status: 204 };
  }

  private assign(app: App | undefined, id: string, body: Record<string, string>): Reply {
    if (!app) return notFound(id);
    if (body.resourceId !== app.id)
      throw new Misuse(`appRoleAssignedTo of ${app.id} with resourceId ${body.resourceId}`);
    const user = this.tenant.users.get(body.principalId!);
    if (!user) return notFound(body.principalId!);
    const declared = app.appRoles.filter((r) => r.allowedMemberTypes.includes('User'));
    const known =
      declared.some((r) => r.id === body.appRoleId && r.isEnabled) ||
      (declared.length === 0 && body.appRoleId === '00000000-0000-0000-0000-000000000000');
    if (!known)
      return odataError(400, 'Request_BadRequest', 'Permission being assigned was not found on application');
    if (
      [...app.assignments.values()].some((a) => a.principalId === user.id && a.appRoleId === body.appRoleId)
    )
      return odataError(400, 'Request_BadRequest', 'Permission being assigned already exists on the object');
    const assignment = this.tenant.createAssignment(
      app,
      user.id,
      'User',
      user.userPrincipalName,
      body.appRoleId!,
    );
    return { status: 201, body: assignment };
  }

  private assignLicense(
    id: string,
    body: { addLicenses: { skuId: string }[]; removeLicenses: string[] },
  ): Reply {
    const user = this.tenant.users.get(id);
    if (!user) return notFound(id);
    for (const { skuId } of body.addLicenses) {
      if (!this.tenant.skus.has(skuId))
        return odataError(
          400,
          'Request_BadRequest',
          `License ${skuId} does not correspond to a valid company License.`,
        );
      if (!user.usageLocation)
        return odataError(
          400,
          'Request_BadRequest',
          'License assignment cannot be done for user with invalid usage location.',
        );
      const holds = this.tenant.licenceStates(user).some((s) => s.skuId === skuId);
      if (!holds && this.tenant.consumed(skuId) >= this.tenant.skus.get(skuId)!.enabled)
        return odataError(
          400,
          'Request_BadRequest',
          `Subscription with SKU ${skuId} does not have any available licenses.`,
        );
    }
    for (const skuId of body.removeLicenses)
      if (!user.licenses.has(skuId))
        return odataError(400, 'Request_BadRequest', 'User does not have a corresponding license.');
    for (const { skuId } of body.addLicenses) user.licenses.add(skuId);
    for (const skuId of body.removeLicenses) user.licenses.delete(skuId);
    return { status: 200, body: this.userJson(user) };
  }
}
