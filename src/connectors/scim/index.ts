import { groupBy } from '../../util/group-by.js';
import {
  type Change,
  type Connector,
  type Held,
  ObserveError,
  type Outcome,
  type Step,
  TerminalError,
  TransientError,
  typed,
} from '../types.js';
import type { ScimConnector, ScimEntitlement, ScimLicense } from './settings.generated.js';

type Mapping = { id: string; license: boolean; group?: string; role?: string; entitlement?: string };
interface ScimUser {
  id: string;
  userName: string;
  active?: boolean;
  roles?: { value: string }[];
  entitlements?: { value: string }[];
}
interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string }[];
}

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** SCIM 2.0 (RFC 7643/7644): users, group membership, roles and entitlements. */
export const scim: Connector = {
  type: 'scim',
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  missingCredentials(app, env) {
    const { tokenEnv } = typed<ScimConnector, unknown, unknown>(app).connector;
    return env[tokenEnv] ? undefined : `${tokenEnv} is not set`;
  },
  async open(app, context) {
    const { connector, entitlements, licenses } = typed<ScimConnector, ScimEntitlement, ScimLicense>(app);
    const mappings: Mapping[] = [
      ...entitlements.map((e) => ({ id: e.id, license: false, ...pick(e) })),
      ...licenses.map((l) => ({ id: l.id, license: true, ...pick(l) })),
    ];
    return new ScimSession(connector, context.env[connector.tokenEnv] ?? '', mappings);
  },
};

function pick(m: {
  group?: string | undefined;
  role?: string | undefined;
  entitlement?: string | undefined;
}) {
  return {
    ...(m.group !== undefined ? { group: m.group } : {}),
    ...(m.role !== undefined ? { role: m.role } : {}),
    ...(m.entitlement !== undefined ? { entitlement: m.entitlement } : {}),
  };
}

class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

class ScimSession {
  /** Users are created before groups name them, and removals must see the result of the run's grants: one step at a time. */
  readonly concurrency = 1;
  private readonly base: string;
  private filterSupported = true;
  private users = new Map<string, ScimUser>();
  private groups = new Map<string, ScimGroup>();
  requests = 0;

  constructor(
    private readonly settings: ScimConnector,
    private readonly token: string,
    private readonly mappings: Mapping[],
  ) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
  }

  /** Reads are retried here on 429 and 503, after the Retry-After the service asks for; writes are retried by apply. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, body);
      } catch (e) {
        const retry =
          e instanceof ScimError && (e.status === 429 || e.status === 503) && method === 'GET' && attempt < 4;
        if (!retry) throw e;
        await new Promise((resolve) => setTimeout(resolve, Math.min(e.retryAfterMs ?? 1000, 30_000)));
      }
    }
  }

  private async once<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.requests++;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new ScimError(0, undefined, `${method} ${path}: ${(e as Error).message}`, undefined);
    }
    const text = await response.text();
    const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      const after = Number(response.headers.get('retry-after'));
      const detail = typeof data.detail === 'string' ? data.detail : response.statusText;
      const scimType = typeof data.scimType === 'string' ? data.scimType : undefined;
      throw new ScimError(
        response.status,
        scimType,
        `${method} ${path}: ${response.status}${scimType ? ` ${scimType}` : ''}: ${detail}`,
        Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      );
    }
    return data as T;
  }

  /** Reads the service's capabilities, the managed groups (by displayName filter) and every user, page by page. */
  async observe(): Promise<Held[]> {
    try {
      const config = await this.call<{ filter?: { supported?: boolean } }>('GET', '/ServiceProviderConfig');
      this.filterSupported = config.filter?.supported ?? false;
      await this.readUsers();
      await this.readGroups();
    } catch (e) {
      throw new ObserveError(`cannot read ${this.base}: ${(e as Error).message}`, { cause: e });
    }
    return this.held();
  }

  private async readUsers(): Promise<void> {
    this.users.clear();
    let start = 1;
    for (;;) {
      const page = await this.call<{ Resources?: ScimUser[]; totalResults?: number; itemsPerPage?: number }>(
        'GET',
        `/Users?startIndex=${start}&count=100`,
      );
      const resources = page.Resources ?? [];
      for (const user of resources) this.users.set(user.userName.toLowerCase(), user);
      start += resources.length;
      if (resources.length === 0 || start > (page.totalResults ?? 0)) break;
    }
  }

  private async readGroups(): Promise<void> {
    this.groups.clear();
    const names = [...new Set(this.mappings.flatMap((m) => (m.group ? [m.group] : [])))];
    if (names.length === 0) return;
    if (this.filterSupported) {
      for (const name of names) {
        const filter = encodeURIComponent(`displayName eq ${JSON.stringify(name)}`);
        const page = await this.call<{ Resources?: ScimGroup[] }>('GET', `/Groups?filter=${filter}`);
        const group = page.Resources?.find((g) => g.displayName === name);
        if (!group) throw new Error(`no group named ${JSON.stringify(name)}; create it in the app first`);
        this.groups.set(name, group);
      }
      return;
    }
    let start = 1;
    for (;;) {
      const page = await this.call<{ Resources?: ScimGroup[]; totalResults?: number }>(
        'GET',
        `/Groups?startIndex=${start}&count=100`,
      );
      const resources = page.Resources ?? [];
      for (const group of resources)
        if (names.includes(group.displayName)) this.groups.set(group.displayName, group);
      start += resources.length;
      if (resources.length === 0 || start > (page.totalResults ?? 0)) break;
    }
    const missing = names.filter((n) => !this.groups.has(n));
    if (missing.length > 0)
      throw new Error(
        `no group named ${missing.map((n) => JSON.stringify(n)).join(', ')}; create it in the app first`,
      );
  }

  private held(): Held[] {
    const byId = new Map([...this.users.values()].map((u) => [u.id, u]));
    const held: Held[] = [];
    const target = (m: Mapping) => (m.license ? { license: m.id } : { entitlement: m.id });
    for (const user of this.users.values()) {
      const roles = new Set((user.roles ?? []).map((r) => r.value));
      const entitlements = new Set((user.entitlements ?? []).map((e) => e.value));
      for (const m of this.mappings) {
        if (
          (m.role !== undefined && roles.has(m.role)) ||
          (m.entitlement !== undefined && entitlements.has(m.entitlement))
        ) {
          held.push({ account: user.userName, ...target(m) });
        }
      }
    }
    for (const m of this.mappings) {
      if (m.group === undefined) continue;
      for (const member of this.groups.get(m.group)?.members ?? []) {
        const user = byId.get(member.value);
        if (user) held.push({ account: user.userName, ...target(m) });
      }
    }
    return held;
  }

  /**
   * Grants: each person's User created or reactivated and their roles and
   * entitlements patched in one request, then one PATCH per group adding all
   * of its new members. Removals: one PATCH per group, then one per person,
   * which also deactivates the User when nothing managed is left. Never DELETE.
   */
  steps(changes: Change[]): Step[] {
    const mapping = (c: Change) =>
      this.mappings.find(
        (m) => m.id === (c.entitlement ?? c.license) && m.license === (c.license !== undefined),
      )!;
    const onUser = changes.filter((c) => mapping(c).group === undefined);
    const onGroup = changes.filter((c) => mapping(c).group !== undefined);
    const grant = changes[0]?.action === 'grant';
    const userSteps = [...groupBy(grant ? changes : onUser, (c) => c.account.toLowerCase()).values()].map(
      (batch) => ({
        changes: batch.filter((c) => mapping(c).group === undefined),
        all: batch,
      }),
    );
    const steps: Step[] = [];
    const userStep = ({ changes: mine, all }: { changes: Change[]; all: Change[] }): Step => ({
      changes: mine,
      run: () => this.patchUser(all[0]!.account, mine, mapping, all),
    });
    const groupSteps = [...groupBy(onGroup, (c) => mapping(c).group!).entries()].map(
      ([group, batch]): Step => ({ changes: batch, run: () => this.patchGroup(group, batch) }),
    );
    if (grant) {
      // A User must exist before a group can name it; a step with no changes of its own only provisions.
      for (const s of userSteps)
        steps.push(
          s.changes.length > 0
            ? userStep(s)
            : {
                changes: [],
                run: () => this.patchUser(s.all[0]!.account, [], mapping, s.all).then(() => []),
              },
        );
      steps.push(...groupSteps);
    } else {
      steps.push(...groupSteps);
      const accounts = new Set(changes.map((c) => c.account.toLowerCase()));
      for (const account of accounts) {
        const mine = onUser.filter((c) => c.account.toLowerCase() === account);
        steps.push({
          changes: mine,
          run: () =>
            this.patchUser(
              changes.find((c) => c.account.toLowerCase() === account)!.account,
              mine,
              mapping,
              [],
            ),
        });
      }
    }
    return steps;
  }

  private async patchUser(
    account: string,
    changes: Change[],
    mapping: (c: Change) => Mapping,
    grants: Change[],
  ): Promise<Outcome[]> {
    const what = `${changes[0]?.action === 'revoke' ? 'updating' : 'provisioning'} ${account}`;
    try {
      let user = this.users.get(account.toLowerCase());
      const operations: object[] = [];
      if (grants.length > 0 && !user) {
        // A new User is created with its roles and entitlements: one request, not two.
        const values = (kind: 'role' | 'entitlement') =>
          changes.flatMap((c) => {
            const value = mapping(c)[kind];
            return value === undefined ? [] : [{ value }];
          });
        const created = await this.createUser(account, values('role'), values('entitlement'));
        if (created.fresh) return changes.map(() => 'granted');
        user = created.user;
      }
      if (!user) return changes.map(() => 'unchanged');
      if (grants.length > 0 && user.active === false)
        operations.push({ op: 'replace', path: 'active', value: true });
      for (const c of changes) {
        const m = mapping(c);
        const [attribute, value] =
          m.role !== undefined ? ['roles', m.role] : ['entitlements', m.entitlement!];
        if (c.action === 'grant') operations.push({ op: 'add', path: attribute, value: [{ value }] });
        else operations.push({ op: 'remove', path: `${attribute}[value eq ${JSON.stringify(value)}]` });
      }
      if (changes.length > 0 && changes[0]!.action === 'revoke') {
        const remaining = this.held().filter(
          (h) =>
            h.account.toLowerCase() === account.toLowerCase() &&
            !changes.some((c) => (c.entitlement ?? c.license) === (h.entitlement ?? h.license)),
        );
        if (remaining.length === 0 && user.active !== false)
          operations.push({ op: 'replace', path: 'active', value: false });
      } else if (changes.length === 0 && grants.length === 0) {
        // A person whose last group went in this run's group steps.
        if (
          this.held().every((h) => h.account.toLowerCase() !== account.toLowerCase()) &&
          user.active !== false
        ) {
          operations.push({ op: 'replace', path: 'active', value: false });
        }
      }
      if (operations.length > 0) {
        const updated = await this.call<ScimUser>('PATCH', `/Users/${user.id}`, {
          schemas: [PATCH],
          Operations: operations,
        });
        this.users.set(account.toLowerCase(), { ...user, ...updated });
      }
      return changes.map((c) => (c.action === 'grant' ? 'granted' : 'revoked'));
    } catch (e) {
      throw translate(e, what);
    }
  }

  /** The product's "Provision account": a new active User, or the existing one when the service says it exists. */
  private async createUser(
    account: string,
    roles: { value: string }[],
    entitlements: { value: string }[],
  ): Promise<{ user: ScimUser; fresh: boolean }> {
    try {
      const user = await this.call<ScimUser>('POST', '/Users', {
        schemas: [USER],
        userName: account,
        name: { formatted: account },
        displayName: account,
        emails: account.includes('@') ? [{ value: account, primary: true }] : [],
        active: true,
        ...(roles.length > 0 ? { roles } : {}),
        ...(entitlements.length > 0 ? { entitlements } : {}),
      });
      this.users.set(account.toLowerCase(), user);
      return { user, fresh: true };
    } catch (e) {
      if (!(e instanceof ScimError && e.status === 409)) throw e;
      const filter = encodeURIComponent(`userName eq ${JSON.stringify(account)}`);
      const page = await this.call<{ Resources?: ScimUser[] }>('GET', `/Users?filter=${filter}`);
      const existing = page.Resources?.find((u) => u.userName.toLowerCase() === account.toLowerCase());
      if (!existing) throw e;
      this.users.set(account.toLowerCase(), existing);
      return { user: existing, fresh: false };
    }
  }

  /** One PATCH per group and run: every member added and removed at once. */
  private async patchGroup(name: string, changes: Change[]): Promise<Outcome[]> {
    const group = this.groups.get(name)!;
    try {
      const ids = (cs: Change[]) =>
        cs.map((c) => {
          const user = this.users.get(c.account.toLowerCase());
          if (!user) throw new TerminalError(`${c.account} has no User in the app`);
          return user.id;
        });
      const add = ids(changes.filter((c) => c.action === 'grant'));
      const remove = ids(changes.filter((c) => c.action === 'revoke'));
      const operations: object[] = [];
      if (add.length > 0)
        operations.push({ op: 'add', path: 'members', value: add.map((value) => ({ value })) });
      if (remove.length > 0) {
        if (this.settings.removeForm === 'value-array')
          operations.push({ op: 'remove', path: 'members', value: remove.map((value) => ({ value })) });
        else
          for (const id of remove)
            operations.push({ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` });
      }
      await this.call('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: operations });
      const members = new Set((group.members ?? []).map((m) => m.value));
      for (const id of add) members.add(id);
      for (const id of remove) members.delete(id);
      group.members = [...members].map((value) => ({ value }));
      return changes.map((c) => (c.action === 'grant' ? 'granted' : 'revoked'));
    } catch (e) {
      throw translate(e, `updating the members of group ${JSON.stringify(name)}`);
    }
  }

  async close(): Promise<void> {}
}

/** SCIM errors keep the service's own words; 429 and 503 (and dropped connections) are worth retrying. */
function translate(e: unknown, what: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (e instanceof ScimError) {
    if (e.status === 0 || e.status === 429 || e.status === 503)
      return new TransientError(`${what}: ${e.message}`, e.retryAfterMs, { cause: e });
    return new TerminalError(`${what}: ${e.message}`, { cause: e });
  }
  return new TerminalError(`${what}: ${(e as Error).message}`, { cause: e });
}
