import type { Operation } from './okta-spec.js';

export interface UserRecord {
  id: string;
  login: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED' | 'STAGED';
  /** False until Okta's search index has the user (search lags behind; a lookup by login does not). */
  indexed: boolean;
  /** When the user last signed in (Okta's lastLogin, date-time); absent: never (null). */
  lastLogin?: string;
  /** More of the user's profile (department, title, managerId…), as Okta's UserProfile names them. */
  profile?: Record<string, string>;
}
export interface GroupRecord {
  id: string;
  name: string;
  type: 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';
  members: string[];
}
export interface RuleRecord {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  groupIds: string[];
  exclude: string[];
}
export interface AssignmentRecord {
  scope: 'USER' | 'GROUP';
  profile: Record<string, unknown>;
  group?: string;
}
export interface AppRecord {
  id: string;
  label: string;
  users: Map<string, AssignmentRecord>;
}
export interface RoleRecord {
  id: string;
  type: string;
  assignmentType: 'USER' | 'GROUP';
}

/** An Okta org's state as the routes keep it. */
export interface OktaState {
  users: Map<string, UserRecord>;
  groups: Map<string, GroupRecord>;
  rules: RuleRecord[];
  apps: Map<string, AppRecord>;
  roles: Map<string, RoleRecord[]>;
  nextId(prefix: string): string;
  url: string;
  now(): number;
}

/** What a route answers: a status and body, or a list for the server to page. */
export type Answer =
  | { status: number; body?: unknown }
  | { status: 200; list: unknown[]; max: number; fallback: number };

const STAMP = '2026-11-01T09:00:00.000Z';

export function errorBody(code: string, summary: string, causes: string[] = []) {
  return {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: `oae${code.slice(-4)}test`,
    errorCauses: causes.map((errorSummary) => ({ errorSummary })),
  };
}

const notFound = (id: string, type: string): Answer => ({
  status: 404,
  body: errorBody('E0000007', `Not found: Resource not found: ${id} (${type})`),
});

export function userJson(u: UserRecord, url: string) {
  const [first = u.login] = u.login.split('@');
  return {
    id: u.id,
    status: u.status,
    created: STAMP,
    activated: STAMP,
    statusChanged: STAMP,
    lastLogin: u.lastLogin ?? null,
    lastUpdated: STAMP,
    passwordChanged: null,
    type: { id: 'oty1testtype' },
    profile: {
      login: u.login,
      email: u.login,
      firstName: first,
      lastName: 'Test',
      mobilePhone: null,
      secondEmail: null,
      ...u.profile,
    },
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `${url}/api/v1/users/${u.id}` } },
  };
}

function groupJson(g: GroupRecord, url: string) {
  return {
    id: g.id,
    created: STAMP,
    lastUpdated: STAMP,
    lastMembershipUpdated: STAMP,
    objectClass: ['okta:user_group'],
    type: g.type,
    profile: { name: g.name, description: `${g.name} (test)` },
    _links: { self: { href: `${url}/api/v1/groups/${g.id}` } },
  };
}

function appUserJson(state: OktaState, app: AppRecord, userId: string, a: AssignmentRecord, embed: boolean) {
  const u = state.users.get(userId)!;
  return {
    id: userId,
    scope: a.scope,
    status: 'ACTIVE',
    syncState: 'DISABLED',
    created: STAMP,
    lastUpdated: STAMP,
    statusChanged: STAMP,
    passwordChanged: null,
    credentials: { userName: u.login },
    profile: a.profile,
    _links: {
      app: { href: `${state.url}/api/v1/apps/${app.id}` },
      user: { href: `${state.url}/api/v1/users/${userId}` },
      ...(a.group ? { group: { href: `${state.url}/api/v1/groups/x`, name: a.group } } : {}),
    },
    ...(embed ? { _embedded: { user: userJson(u, state.url) } } : {}),
  };
}

function roleJson(r: RoleRecord) {
  return {
    id: r.id,
    type: r.type,
    label: r.type,
    status: 'ACTIVE',
    assignmentType: r.assignmentType,
    created: STAMP,
    lastUpdated: STAMP,
  };
}

/** `a eq "x" or b eq "y"`: the terms of an or-expression, as Okta's filter and search take them. */
export function terms(expression: string): { field: string; value: string }[] {
  const found: { field: string; value: string }[] = [];
  const rest = expression.replace(
    /([\w.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"/g,
    (_, field: string, value: string) => {
      found.push({ field, value: value.replace(/\\(.)/g, '$1') });
      return '#';
    },
  );
  if (!/^#( or #)*$/.test(rest))
    throw new Error(`the test server does not take the expression ${expression}`);
  return found;
}

const byLogin = (state: OktaState, login: string) =>
  [...state.users.values()].find((u) => u.login.toLowerCase() === login.toLowerCase());

/** Okta's answer to a request of the described operations, on `state`. */
export function route(
  state: OktaState,
  o: Operation,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Answer {
  const p = o.params;
  const key = `${o.method} ${o.template}`;
  switch (key) {
    case 'GET /api/v1/users': {
      const wanted = terms(query.get('search') ?? query.get('filter') ?? '');
      const searching = query.has('search');
      const list = [...state.users.values()]
        .filter((u) => (searching ? u.indexed : true))
        .filter((u) =>
          wanted.some(
            (t) =>
              t.field === 'profile.login' &&
              (searching ? t.value.toLowerCase() === u.login.toLowerCase() : t.value === u.login),
          ),
        )
        .map((u) => userJson(u, state.url));
      return { status: 200, list, max: 200, fallback: 200 };
    }
    case 'GET /api/v1/users/{id}': {
      const u = state.users.get(p.id!) ?? byLogin(state, p.id!);
      return u ? { status: 200, body: userJson(u, state.url) } : notFound(p.id!, 'User');
    }
    case 'GET /api/v1/groups': {
      const search = query.get('search');
      const wanted = terms(search ?? query.get('filter') ?? '');
      const list = [...state.groups.values()]
        .filter((g) =>
          wanted.some((t) =>
            t.field === 'id'
              ? t.value === g.id
              : t.field === 'profile.name' && t.value.toLowerCase() === g.name.toLowerCase(),
          ),
        )
        .map((g) => groupJson(g, state.url));
      return { status: 200, list, max: 10000, fallback: 10000 };
    }
    case 'GET /api/v1/groups/{groupId}/users': {
      const g = state.groups.get(p.groupId!);
      if (!g) return notFound(p.groupId!, 'UserGroup');
      return {
        status: 200,
        list: g.members.map((id) => userJson(state.users.get(id)!, state.url)),
        max: 1000,
        fallback: 1000,
      };
    }
    case 'PUT /api/v1/groups/{groupId}/users/{userId}': {
      const g = state.groups.get(p.groupId!);
      if (!g) return notFound(p.groupId!, 'UserGroup');
      if (!state.users.has(p.userId!)) return notFound(p.userId!, 'User');
      if (g.type !== 'OKTA_GROUP')
        return {
          status: 403,
          body: errorBody('E0000006', 'You do not have permission to perform the requested action'),
        };
      if (!g.members.includes(p.userId!)) g.members.push(p.userId!);
      return { status: 204 };
    }
    case 'DELETE /api/v1/groups/{groupId}/users/{userId}': {
      const g = state.groups.get(p.groupId!);
      if (!g) return notFound(p.groupId!, 'UserGroup');
      if (!g.members.includes(p.userId!)) return { status: 204 };
      g.members = g.members.filter((id) => id !== p.userId);
      // As Okta does: a member removed by hand from a rule's group goes on the rule's exclusions.
      for (const r of state.rules)
        if (r.status === 'ACTIVE' && r.groupIds.includes(g.id) && !r.exclude.includes(p.userId!))
          r.exclude.push(p.userId!);
      return { status: 204 };
    }
    case 'GET /api/v1/groups/rules':
      return {
        status: 200,
        max: 200,
        fallback: 50,
        list: state.rules.map((r) => ({
          id: r.id,
          name: r.name,
          type: 'group_rule',
          status: r.status,
          created: STAMP,
          lastUpdated: STAMP,
          conditions: {
            expression: { type: 'urn:okta:expression:1.0', value: 'user.department=="Sales"' },
            people: { users: { exclude: [...r.exclude] } },
          },
          actions: { assignUserToGroups: { groupIds: [...r.groupIds] } },
        })),
      };
    case 'GET /api/v1/apps': {
      const q = (query.get('q') ?? '').toLowerCase();
      const list = [...state.apps.values()]
        .filter((a) => a.label.toLowerCase().startsWith(q))
        .map((a) => ({
          id: a.id,
          name: a.label.toLowerCase().replace(/\W/g, '_'),
          label: a.label,
          signOnMode: 'BOOKMARK',
          status: 'ACTIVE',
          created: STAMP,
          lastUpdated: STAMP,
        }));
      return { status: 200, body: list };
    }
    case 'GET /api/v1/apps/{appId}/users': {
      const app = state.apps.get(p.appId!);
      if (!app) return notFound(p.appId!, 'AppInstance');
      const embed = query.get('expand') === 'user';
      return {
        status: 200,
        list: [...app.users].map(([id, a]) => appUserJson(state, app, id, a, embed)),
        max: 500,
        fallback: 50,
      };
    }
    case 'POST /api/v1/apps/{appId}/users': {
      const app = state.apps.get(p.appId!);
      if (!app) return notFound(p.appId!, 'AppInstance');
      const id = String(body.id);
      if (!state.users.has(id)) return notFound(id, 'User');
      const a: AssignmentRecord = {
        scope: 'USER',
        profile: { ...((body.profile as Record<string, unknown>) ?? {}) },
      };
      app.users.set(id, a);
      return { status: 200, body: appUserJson(state, app, id, a, false) };
    }
    case 'POST /api/v1/apps/{appId}/users/{userId}': {
      const app = state.apps.get(p.appId!);
      const a = app?.users.get(p.userId!);
      if (!app || !a) return notFound(p.userId!, 'AppUser');
      for (const [k, v] of Object.entries((body.profile as Record<string, unknown>) ?? {})) {
        if (v === null) delete a.profile[k];
        else a.profile[k] = v;
      }
      return { status: 200, body: appUserJson(state, app, p.userId!, a, false) };
    }
    case 'DELETE /api/v1/apps/{appId}/users/{userId}': {
      const app = state.apps.get(p.appId!);
      if (!app?.users.has(p.userId!)) return notFound(p.userId!, 'AppUser');
      app.users.delete(p.userId!);
      return { status: 204 };
    }
    case 'GET /api/v1/iam/assignees/users': {
      const holders = [...state.roles].filter(([, rs]) => rs.length > 0).map(([id]) => id);
      const limit = Number(query.get('limit') ?? 100);
      const start = Number(query.get('after') ?? 0);
      const next =
        start + limit < holders.length
          ? `${state.url}/api/v1/iam/assignees/users?limit=${limit}&after=${start + limit}`
          : undefined;
      return {
        status: 200,
        body: {
          value: holders
            .slice(start, start + limit)
            .map((id) => ({ id, orn: `orn:okta:directory:test:users:${id}` })),
          _links: next ? { next: { href: next } } : {},
        },
      };
    }
    case 'GET /api/v1/users/{userId}/roles': {
      if (!state.users.has(p.userId!)) return notFound(p.userId!, 'User');
      return { status: 200, body: (state.roles.get(p.userId!) ?? []).map(roleJson) };
    }
    case 'POST /api/v1/users/{userId}/roles': {
      if (!state.users.has(p.userId!)) return notFound(p.userId!, 'User');
      const roles = state.roles.get(p.userId!) ?? [];
      if (roles.some((r) => r.type === body.type && r.assignmentType === 'USER'))
        return {
          status: 400,
          body: errorBody('E0000001', 'Api validation failed: com.saasure.core.services.user.role', [
            'The role specified is already assigned to the user.',
          ]),
        };
      const r: RoleRecord = { id: state.nextId('ra1'), type: String(body.type), assignmentType: 'USER' };
      state.roles.set(p.userId!, [...roles, r]);
      return { status: 201, body: roleJson(r) };
    }
    case 'DELETE /api/v1/users/{userId}/roles/{roleAssignmentId}': {
      const roles = state.roles.get(p.userId!) ?? [];
      if (!roles.some((r) => r.id === p.roleAssignmentId))
        return notFound(p.roleAssignmentId!, 'RoleAssignment');
      state.roles.set(
        p.userId!,
        roles.filter((r) => r.id !== p.roleAssignmentId),
      );
      return { status: 204 };
    }
    default:
      throw new Error(`the test server has no handler for ${key}`);
  }
}
