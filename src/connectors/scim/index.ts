import { groupBy } from '../../util/group-by.js';
import {
  type AppSpec,
  type Change,
  type ConnectorContext,
  type Held,
  inOrder,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  type StepResult,
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

interface BulkOp {
  method: 'POST' | 'PATCH';
  path: string;
  bulkId?: string;
  data: object;
  changes: Change[];
  account?: string;
  group?: string;
}

function newUser(account: string, roles: { value: string }[], entitlements: { value: string }[]): object {
  return {
    schemas: [USER],
    userName: account,
    name: { formatted: account },
    displayName: account,
    emails: account.includes('@') ? [{ value: account, primary: true }] : [],
    active: true,
    ...(roles.length > 0 ? { roles } : {}),
    ...(entitlements.length > 0 ? { entitlements } : {}),
  };
}

function attributeOperation(c: Change, m: Mapping): object {
  const [attribute, value] = m.role !== undefined ? ['roles', m.role] : ['entitlements', m.entitlement!];
  return c.action === 'grant'
    ? { op: 'add', path: attribute, value: [{ value }] }
    : { op: 'remove', path: `${attribute}[value eq ${JSON.stringify(value)}]` };
}
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Opens a session on the SCIM service. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<ScimConnector, ScimEntitlement, ScimLicense>(app);
  const mappings: Mapping[] = [
    ...entitlements.map((e) => ({ id: e.id, license: false, ...pick(e) })),
    ...licenses.map((l) => ({ id: l.id, license: true, ...pick(l) })),
  ];
  return new ScimSession(connector, context.env[connector.tokenEnv] ?? '', mappings);
}

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
  private patchSupported = true;
  /** The most operations one /Bulk request may carry, when the service supports bulk (and PATCH). */
  private bulkMax = 0;
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
      const config = await this.call<{ filter?: { supported?: boolean }; patch?: { supported?: boolean } }>(
        'GET',
        '/ServiceProviderConfig',
      );
      this.filterSupported = config.filter?.supported ?? false;
      this.patchSupported = config.patch?.supported ?? false;
      const bulk = (config as { bulk?: { supported?: boolean; maxOperations?: number } }).bulk;
      this.bulkMax = bulk?.supported && this.patchSupported ? (bulk.maxOperations ?? 0) : 0;
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
    const bulk = this.bulkPlan(changes);
    if (bulk) return [{ changes, run: () => this.runBulk(bulk, changes) }];
    return this.singleSteps(changes);
  }

  private mappingOf(c: Change): Mapping {
    return this.mappings.find(
      (m) => m.id === (c.entitlement ?? c.license) && m.license === (c.license !== undefined),
    )!;
  }

  /**
   * Where the service supports /Bulk, a run's changes in one direction go in
   * one request when that saves calls: new Users by bulkId, the groups that
   * name them, and every User patch. Undefined when bulk does not apply.
   */
  private bulkPlan(changes: Change[]): BulkOp[] | undefined {
    if (this.bulkMax < 2 || changes.length === 0) return undefined;
    const grant = changes[0]!.action === 'grant';
    const ops: BulkOp[] = [];
    const refs = new Map<string, string>();
    const userOps: BulkOp[] = [];
    for (const [account, mine] of groupBy(changes, (c) => c.account.toLowerCase())) {
      const attrs = mine.filter((c) => this.mappingOf(c).group === undefined);
      const user = this.users.get(account);
      const values = (kind: 'role' | 'entitlement') =>
        attrs.flatMap((c) =>
          this.mappingOf(c)[kind] === undefined ? [] : [{ value: this.mappingOf(c)[kind]! }],
        );
      if (!user) {
        if (!grant) continue;
        const bulkId = `u${refs.size}`;
        refs.set(account, `bulkId:${bulkId}`);
        userOps.push({
          method: 'POST',
          path: '/Users',
          bulkId,
          data: newUser(mine[0]!.account, values('role'), values('entitlement')),
          changes: attrs,
          account,
        });
        continue;
      }
      refs.set(account, user.id);
      const operations: object[] = [];
      if (grant && user.active === false) operations.push({ op: 'replace', path: 'active', value: true });
      for (const c of attrs) operations.push(attributeOperation(c, this.mappingOf(c)));
      if (!grant) {
        if (this.leftAfter(account, mine).length === 0 && user.active !== false)
          operations.push({ op: 'replace', path: 'active', value: false });
      }
      if (operations.length > 0) {
        userOps.push({
          method: 'PATCH',
          path: `/Users/${user.id}`,
          data: { schemas: [PATCH], Operations: operations },
          changes: attrs,
          account,
        });
      }
    }
    const groupOps: BulkOp[] = [];
    for (const [name, batch] of groupBy(
      changes.filter((c) => this.mappingOf(c).group !== undefined),
      (c) => this.mappingOf(c).group!,
    )) {
      const group = this.groups.get(name)!;
      const ref = (c: Change) => refs.get(c.account.toLowerCase());
      const adds = batch.filter((c) => c.action === 'grant' && ref(c));
      const existing = adds.filter((c) => !ref(c)!.startsWith('bulkId:'));
      const remove = batch.filter((c) => c.action === 'revoke' && ref(c));
      const operations: object[] = [];
      if (existing.length > 0)
        operations.push({ op: 'add', path: 'members', value: existing.map((c) => ({ value: ref(c)! })) });
      for (const c of remove)
        operations.push({ op: 'remove', path: `members[value eq ${JSON.stringify(ref(c)!)}]` });
      const patch = (ops: object[], changes: Change[]): BulkOp => ({
        method: 'PATCH',
        path: `/Groups/${group.id}`,
        data: { schemas: [PATCH], Operations: ops },
        changes,
        group: name,
      });
      if (operations.length > 0) groupOps.push(patch(operations, [...existing, ...remove]));
      // A new member joins by its own operation, so each refers to one bulkId: some services (SCIMMY 1.3)
      // resolve only one reference per operation. Still one request.
      for (const c of adds.filter((c) => ref(c)!.startsWith('bulkId:'))) {
        groupOps.push(patch([{ op: 'add', path: 'members', value: [{ value: ref(c)! }] }], [c]));
      }
    }
    ops.push(...(grant ? [...userOps, ...groupOps] : [...groupOps, ...userOps]));
    // One request must replace at least two, and fit the service's limit.
    return ops.length >= 2 && ops.length <= this.bulkMax ? ops : undefined;
  }

  private async runBulk(ops: BulkOp[], changes: Change[]): Promise<StepResult[]> {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: ops.map(({ method, path, bulkId, data }) => ({
        method,
        path,
        ...(bulkId ? { bulkId } : {}),
        data,
      })),
    };
    let response: {
      Operations?: {
        status?: string | number;
        location?: string;
        bulkId?: string;
        method?: string;
        response?: { detail?: string; scimType?: string };
      }[];
    };
    try {
      response = await this.call('POST', '/Bulk', body);
    } catch (e) {
      throw translate(e, `sending ${ops.length} operations in one bulk request`);
    }
    const results = new Map<Change, StepResult>();
    const ids = new Map<string, string>();
    (response.Operations ?? []).forEach((result, i) => {
      const op = ops[i];
      if (!op) return;
      const ok = Number(result.status) >= 200 && Number(result.status) < 300;
      if (ok && op.method === 'POST' && result.location && op.bulkId)
        ids.set(`bulkId:${op.bulkId}`, result.location.split('/').pop()!);
      const detail = result.response?.detail ?? result.response?.scimType;
      const error = `${op.method} ${op.path} in the bulk request: ${result.status}${detail ? `: ${detail}` : ''}`;
      for (const change of op.changes)
        results.set(
          change,
          ok
            ? { change, outcome: change.action === 'grant' ? 'granted' : 'revoked' }
            : { change, outcome: 'failed', error },
        );
      if (ok) this.remember(op, ids);
    });
    // A removal from a User the service does not have needed no operation; anything else without one failed.
    return changes.map(
      (change) =>
        results.get(change) ??
        (change.action === 'revoke' && !ops.some((op) => op.changes.includes(change))
          ? { change, outcome: 'unchanged' }
          : { change, outcome: 'failed', error: 'the bulk response says nothing of it' }),
    );
  }

  /** Keeps the session's picture of the service in step with a bulk operation that succeeded. */
  private remember(op: BulkOp, ids: Map<string, string>): void {
    const data = op.data as {
      userName?: string;
      roles?: { value: string }[];
      entitlements?: { value: string }[];
      Operations?: { op: string; path: string; value?: unknown }[];
    };
    if (op.method === 'POST' && op.account && op.bulkId) {
      const id = ids.get(`bulkId:${op.bulkId}`);
      if (id)
        this.users.set(op.account, {
          id,
          userName: data.userName ?? op.account,
          active: true,
          roles: data.roles ?? [],
          entitlements: data.entitlements ?? [],
        });
      return;
    }
    if (op.group) {
      const group = this.groups.get(op.group)!;
      const members = new Set((group.members ?? []).map((m) => m.value));
      for (const c of op.changes) {
        const user = this.users.get(c.account.toLowerCase());
        if (!user) continue;
        if (c.action === 'grant') members.add(user.id);
        else members.delete(user.id);
      }
      group.members = [...members].map((value) => ({ value }));
      return;
    }
    const user = op.account ? this.users.get(op.account) : undefined;
    if (!user) return;
    for (const operation of data.Operations ?? [])
      if (operation.path === 'active') user.active = operation.value as boolean;
    for (const c of op.changes) {
      const m = this.mappingOf(c);
      const key = m.role !== undefined ? 'roles' : 'entitlements';
      const value = m.role ?? m.entitlement!;
      const list = (user[key] ?? []).filter((v) => v.value !== value);
      user[key] = c.action === 'grant' ? [...list, { value }] : list;
    }
  }

  private singleSteps(changes: Change[]): Step[] {
    const grant = changes[0]?.action === 'grant';
    const groupSteps = [
      ...groupBy(
        changes.filter((c) => this.mappingOf(c).group !== undefined),
        (c) => this.mappingOf(c).group!,
      ),
    ].map(
      ([group, batch]): Step => ({
        changes: batch,
        run: async () => inOrder(batch, await this.patchGroup(group, batch)),
      }),
    );
    // One step per person: their roles and entitlements, and (granting) their User made ready, or
    // (removing) deactivated once nothing is left. A step with no changes of its own only provisions or deactivates.
    const userSteps = [...groupBy(changes, (c) => c.account.toLowerCase()).values()].map((batch): Step => {
      const mine = batch.filter((c) => this.mappingOf(c).group === undefined);
      return {
        changes: mine,
        run: async () => inOrder(mine, await this.patchUser(batch[0]!.account, mine, grant)),
      };
    });
    // A User must exist before a group can name it; removals leave the groups first.
    return grant ? [...userSteps, ...groupSteps] : [...groupSteps, ...userSteps];
  }

  /** What the person holds once `changes` are taken away: the basis for deactivating them. */
  private leftAfter(account: string, changes: Change[]): Held[] {
    const gone = new Set(changes.map((c) => c.entitlement ?? c.license));
    return this.held().filter(
      (h) => h.account.toLowerCase() === account.toLowerCase() && !gone.has(h.entitlement ?? h.license),
    );
  }

  private async patchUser(account: string, changes: Change[], provision: boolean): Promise<Outcome[]> {
    const what = `${provision ? 'provisioning' : 'updating'} ${account}`;
    try {
      let user = this.users.get(account.toLowerCase());
      const operations: object[] = [];
      if (provision && !user) {
        // A new User is created with its roles and entitlements: one request, not two.
        const values = (kind: 'role' | 'entitlement') =>
          changes.flatMap((c) => {
            const value = this.mappingOf(c)[kind];
            return value === undefined ? [] : [{ value }];
          });
        const created = await this.createUser(account, values('role'), values('entitlement'));
        if (created.fresh) return changes.map(() => 'granted');
        user = created.user;
      }
      if (!user) return changes.map(() => 'unchanged');
      if (provision && user.active === false) operations.push({ op: 'replace', path: 'active', value: true });
      for (const c of changes) operations.push(attributeOperation(c, this.mappingOf(c)));
      if (!provision && this.leftAfter(account, changes).length === 0 && user.active !== false) {
        operations.push({ op: 'replace', path: 'active', value: false });
      }
      if (operations.length > 0) {
        const updated = this.patchSupported
          ? await this.call<ScimUser>('PATCH', `/Users/${user.id}`, {
              schemas: [PATCH],
              Operations: operations,
            })
          : await this.call<ScimUser>(
              'PUT',
              `/Users/${user.id}`,
              replaced(user, changes, (c) => this.mappingOf(c), operations),
            );
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
      const user = await this.call<ScimUser>('POST', '/Users', newUser(account, roles, entitlements));
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
      const members = new Set((group.members ?? []).map((m) => m.value));
      for (const id of add) members.add(id);
      for (const id of remove) members.delete(id);
      if (this.patchSupported)
        await this.call('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: operations });
      else {
        // Without PATCH the whole Group is replaced: the members it had, with this run's changes.
        const { meta: _meta, ...rest } = group as ScimGroup & { meta?: unknown };
        await this.call('PUT', `/Groups/${group.id}`, {
          ...rest,
          members: [...members].map((value) => ({ value })),
        });
      }
      group.members = [...members].map((value) => ({ value }));
      return changes.map((c) => (c.action === 'grant' ? 'granted' : 'revoked'));
    } catch (e) {
      throw translate(e, `updating the members of group ${JSON.stringify(name)}`);
    }
  }

  async close(): Promise<void> {}
}

/** A whole User for services without PATCH: its roles, entitlements and active flag as the operations leave them. */
function replaced(
  user: ScimUser,
  changes: Change[],
  mapping: (c: Change) => Mapping,
  operations: object[],
): object {
  const roles = new Set((user.roles ?? []).map((r) => r.value));
  const entitlements = new Set((user.entitlements ?? []).map((e) => e.value));
  for (const c of changes) {
    const m = mapping(c);
    const set = m.role !== undefined ? roles : entitlements;
    const value = m.role ?? m.entitlement!;
    if (c.action === 'grant') set.add(value);
    else set.delete(value);
  }
  const active = operations.find(
    (o): o is { path: string; value: boolean } => (o as { path?: string }).path === 'active',
  );
  const { meta: _meta, ...rest } = user as ScimUser & { meta?: unknown };
  return {
    ...rest,
    schemas: [USER],
    roles: [...roles].map((value) => ({ value })),
    entitlements: [...entitlements].map((value) => ({ value })),
    ...(active ? { active: active.value } : {}),
  };
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
