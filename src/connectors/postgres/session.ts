import type { Unmanaged } from '../../model/access.js';
import {
  type AppSpec,
  AppStoppedError,
  type Change,
  type ConnectorContext,
  type Held,
  ObserveError,
  type Session,
  type Step,
  TransientError,
  typed,
} from '../types.js';
import { batchSteps } from './batch-step.js';
import { type Database, type Query, quoteIdent, type Script } from './database.js';
import { classify, type Timeouts } from './errors.js';
import type { Lease } from './lock.js';
import { members, standing, unsafeRoles } from './observe.js';
import type { PostgresConnector, PostgresEntitlement, PostgresLicense } from './settings.generated.js';
import type { StepContext } from './steps.js';

type Target = { entitlement?: string; license?: string };

export interface SessionParts {
  /** The database; `create` false: undefined when an embedded one does not exist yet (it holds nothing). */
  connect(create: boolean): Promise<Database | undefined>;
  concurrency: number;
  createRoles: boolean;
  release(): Promise<void>;
  /** The run's hold on a server's database; the embedded database's folder lock cannot be lost. */
  lease?: Lease;
  /**
   * The cluster as the server names it; none for an embedded database, a
   * copy of one template (system identifier included), named by its app.
   */
  target?: string;
  timeouts?: Timeouts;
}

const RETIRED = /@retired(-\d+)?$/;

export class PostgresSession implements Session {
  readonly notices: string[] = [];
  readonly unmanaged: Unmanaged[] = [];
  readonly concurrency: number;
  readonly targetKey?: string;
  /** Group role name to the entitlement and tier ids it stands for. */
  private readonly byRole = new Map<string, Target[]>();
  private readonly roleOf = new Map<string, string>();
  /** Mapped roles a team chose to allow although they hand over more than access. */
  private readonly allowed = new Set<string>();
  /** Mapped roles still declared (not retired): the ones iden may create and must judge. */
  private readonly declared = new Set<string>();
  private ready: Promise<Database> | undefined;
  /** Set for the embedded database: stops its thread until the next statement needs it. */
  suspend?: () => Promise<void>;

  constructor(
    app: AppSpec,
    private readonly context: ConnectorContext,
    private readonly parts: SessionParts,
  ) {
    this.concurrency = parts.concurrency;
    if (parts.target) this.targetKey = parts.target;
    const { entitlements, licenses } = typed<PostgresConnector, PostgresEntitlement, PostgresLicense>(app);
    for (const e of entitlements) this.map(e, { entitlement: e.id }, `e:${e.id}`);
    for (const l of licenses) this.map(l, { license: l.id }, `l:${l.id}`);
    parts.lease?.onLost((why) => context.onNotice?.(`${why}; this app's remaining changes stop`));
  }

  private map(item: { id: string; role: string; allowUnsafeRole?: boolean }, target: Target, key: string) {
    this.byRole.set(item.role, [...(this.byRole.get(item.role) ?? []), target]);
    this.roleOf.set(key, item.role);
    if (item.allowUnsafeRole) this.allowed.add(item.role);
    if (!RETIRED.test(item.id)) this.declared.add(item.role);
  }

  forget(): void {
    this.ready = undefined;
  }

  /** The database, ready to change: created if embedded and new, its group roles made where iden makes them. Plan never gets here. */
  private writable(): Promise<Database> {
    this.ready ??= (async () => {
      const db = (await this.parts.connect(true))!;
      if (this.parts.createRoles) await this.createGroupRoles(db);
      return db;
    })().catch((e) => {
      // A failure here (a dropped connection) is tried again by the next step, not remembered.
      this.ready = undefined;
      throw classify(e, 'creating the group roles', this.parts.timeouts);
    });
    return this.ready;
  }

  private async createGroupRoles(db: Database): Promise<void> {
    const roles = [...this.declared];
    const rows = await db.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
      [roles],
    );
    const existing = new Set(rows.map((r) => r.rolname));
    for (const role of roles) {
      if (existing.has(role)) continue;
      await db.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`).catch((e: { code?: string }) => {
        // Another app on the same cluster created it meanwhile.
        if (e.code !== '42710' && e.code !== '23505') throw e;
      });
    }
  }

  /**
   * The managed roles' members that are people: login roles iden created
   * or adopted (its comment), and login roles made by hand, whose
   * memberships iden manages like any (marked `unowned` when importing).
   * The connecting role, superusers, group roles and the managed roles
   * themselves are reported once as not managed and left alone. A mapped
   * role that would hand over more than access stops the app here.
   */
  async observe(): Promise<Held[]> {
    let rows: Awaited<ReturnType<typeof members>>;
    try {
      const db = await this.parts.connect(false);
      if (!db) return [];
      await this.refuseUnsafe(db.query);
      rows = await members(db.query, [...this.byRole.keys()]);
    } catch (e) {
      if (e instanceof ObserveError) throw e;
      const error = classify(e, 'listing role memberships', this.parts.timeouts);
      if (error instanceof TransientError) throw error;
      throw new ObserveError(error.message, { cause: e });
    }
    const managed = new Set(this.byRole.keys());
    const adopt = this.context.adopt ?? new Set<string>();
    const held: Held[] = [];
    const leftAlone = new Map<string, { groups: Set<string>; why: string }>();
    for (const row of rows) {
      const found = standing(row, managed, adopt);
      if (found.kind === 'untouchable') {
        const entry = leftAlone.get(row.name) ?? { groups: new Set<string>(), why: found.why };
        leftAlone.set(row.name, { ...entry, groups: entry.groups.add(row.grp) });
        continue;
      }
      for (const target of this.byRole.get(row.grp) ?? []) {
        held.push({
          account: row.name,
          ...target,
          ...(row.canlogin ? {} : { disabled: true }),
          ...(found.kind === 'unowned' && this.context.importing
            ? {
                unowned:
                  "a login role iden did not create: iden grants and revokes its roles, never its login or its comment; list it in the app's adopt: (iden import --adopt) to hand it over",
              }
            : {}),
        });
      }
    }
    this.unmanaged.length = 0;
    for (const [member, { groups, why }] of leftAlone) {
      for (const group of [...groups].sort())
        for (const target of this.byRole.get(group) ?? [])
          this.unmanaged.push({ account: member, ...target, why });
      this.notices.push(
        `${member} is a member of ${[...groups].sort().join(', ')} but not a person iden manages (${why}): left alone`,
      );
    }
    return held;
  }

  /** A mapping to a superuser, an administrator or a login is not access to hand out: the app is skipped, saying which and why. */
  private async refuseUnsafe(query: Query): Promise<void> {
    const judged = [...this.declared].filter((r) => !this.allowed.has(r));
    if (judged.length === 0) return;
    const unsafe = await unsafeRoles(query, judged);
    if (unsafe.size === 0) return;
    const which = judged
      .filter((role) => unsafe.has(role))
      .map((role) => `${role} (${unsafe.get(role)})`)
      .join('; ');
    throw new ObserveError(
      `unsafe-role: granting ${which} would hand over more than access; map the entitlement to a group role made for it, or set allowUnsafeRole: true on it if that is really meant`,
    );
  }

  /**
   * Steps of many accounts each, an account's roles changing together: see
   * batch-step.ts for how a failure stays with its account.
   */
  steps(changes: Change[]): Step[] {
    const context: StepContext = {
      managed: new Set(this.byRole.keys()),
      roleOf: (c) => this.roleOf.get(c.entitlement !== undefined ? `e:${c.entitlement}` : `l:${c.license}`)!,
      adopt: this.context.adopt ?? new Set(),
      ...(this.context.stillGranted ? { stillGranted: this.context.stillGranted } : {}),
      inTransaction: (what, fn) => this.inTransaction(what, fn),
    };
    return batchSteps(context, changes, this.concurrency);
  }

  /** Changes nothing once the run no longer excludes others: another run may be changing the same roles. */
  private checkLease(what: string): void {
    const lost = this.parts.lease?.lost();
    if (lost)
      throw new AppStoppedError(
        `${what}: ${lost}, so this app's remaining changes stop; the next run converges`,
      );
  }

  private async inTransaction<T>(what: string, fn: (query: Query, script: Script) => Promise<T>): Promise<T> {
    this.checkLease(what);
    try {
      const db = await this.writable();
      return await db.transaction(async (query, script) => {
        const outcomes = await fn(query, script);
        this.checkLease(what);
        return outcomes;
      });
    } catch (e) {
      // A statement that failed because the lock's connection went with the server is not worth retrying.
      this.checkLease(what);
      throw classify(e, what, this.parts.timeouts);
    }
  }

  close(): Promise<void> {
    return this.parts.release();
  }
}
