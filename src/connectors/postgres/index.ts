import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../reconcile/lock.js';
import { groupBy } from '../../util/group-by.js';
import {
  type AppSpec,
  AppStoppedError,
  type Change,
  type ConnectorContext,
  type Held,
  inOrder,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TerminalError,
  TransientError,
  typed,
} from '../types.js';
import { type Database, type Query, quoteIdent, type ServerDatabase, serverDatabase } from './database.js';
import { EmbeddedStoppedError, embeddedDatabase } from './embedded.js';
import type { PostgresConnector, PostgresEntitlement, PostgresLicense } from './settings.generated.js';

/** The comment iden puts on every login role it creates: the only roles whose login it ever changes. */
export const OWNED = 'managed by iden';
/** The advisory-lock key every iden run takes on a managed database. */
export const ADVISORY_KEY = 7_400_202_611;

/** Opens a session on the app's database: a server through pg, or the embedded PGlite under .iden/. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
  const url = settings.urlEnv ? context.env[settings.urlEnv] : settings.url;
  const concurrency = settings.concurrency ?? 4;
  const createRoles = settings.createRoles ?? !url;
  if (url) {
    const db = serverDatabase(url, concurrency + 1);
    try {
      const release = await advisoryLock(db, context);
      return new PostgresSession(
        app,
        context,
        async () => db,
        concurrency,
        createRoles,
        async () => {
          await release();
          await db.close();
        },
      );
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e instanceof ObserveError
        ? e
        : new ObserveError(`cannot open the database: ${(e as Error).message}`, { cause: e });
    }
  }
  // The embedded database: its folder is locked for the run, created (from a template) only when a change is made,
  // and its thread stopped between observing and applying, so many of them never run at once.
  const dataDir = join(context.repoRoot, '.iden', 'pglite', app.id);
  const release = await acquireLock(`${dataDir}.lock`, {
    timeoutMs: context.lockTimeoutMs,
    command: 'iden',
    ...(context.onNotice ? { onNotice: context.onNotice } : {}),
  });
  let db: Database | undefined;
  const connect = async (create: boolean): Promise<Database | undefined> => {
    if (db) return db;
    if (!create && !existsSync(join(dataDir, 'PG_VERSION'))) return undefined;
    try {
      db = await embeddedDatabase(dataDir, { timeoutMs: context.embeddedTimeoutMs ?? 60_000 });
    } catch (e) {
      throw new AppStoppedError(`cannot open the embedded database: ${(e as Error).message}`, { cause: e });
    }
    return db;
  };
  const session = new PostgresSession(app, context, connect, 1, createRoles, async () => {
    try {
      await db?.close();
    } finally {
      release();
    }
  });
  session.suspend = async () => {
    const open = db;
    db = undefined;
    session.forget();
    await open?.close();
  };
  return session;
}

/**
 * A session-level advisory lock on the target database, on a connection of
 * its own held for the run: runs from other machines and CI jobs exclude
 * each other, and a run that dies releases it with its connection.
 */
async function advisoryLock(db: ServerDatabase, context: ConnectorContext): Promise<() => Promise<void>> {
  return db.hold(async (query) => {
    const started = Date.now();
    let told = false;
    for (;;) {
      const [row] = await query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [ADVISORY_KEY]);
      if (row?.ok) return;
      if (Date.now() - started >= context.lockTimeoutMs)
        throw new ObserveError(
          `another iden run holds the database's advisory lock (key ${ADVISORY_KEY}); nothing was changed: try again when it ends, or give --lock-timeout`,
        );
      if (!told) context.onNotice?.('waiting for another iden run on this database to finish');
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}

interface Member {
  grp: string;
  member: string;
  canLogin: boolean;
  owned: boolean;
  /** Why the member is not a person iden manages, when it is not. */
  unmanaged: string | undefined;
}

class PostgresSession implements Session {
  readonly notices: string[] = [];
  /** Group role name to the entitlement and tier ids it stands for. */
  private readonly byRole = new Map<string, { entitlement?: string; license?: string }[]>();
  private readonly roleOf = new Map<string, string>();
  private ready: Promise<Database> | undefined;
  /** Set for the embedded database: stops its thread until the next statement needs it. */
  suspend?: () => Promise<void>;

  constructor(
    app: AppSpec,
    private readonly context: ConnectorContext,
    /** The database; `create` false: undefined when an embedded one does not exist yet (it holds nothing). */
    private readonly connect: (create: boolean) => Promise<Database | undefined>,
    readonly concurrency: number,
    private readonly createRoles: boolean,
    private readonly release: () => Promise<void>,
  ) {
    const { entitlements, licenses } = typed<PostgresConnector, PostgresEntitlement, PostgresLicense>(app);
    for (const e of entitlements) this.map(e.role, { entitlement: e.id }, `e:${e.id}`);
    for (const l of licenses) this.map(l.role, { license: l.id }, `l:${l.id}`);
  }

  private map(role: string, target: { entitlement?: string; license?: string }, key: string) {
    this.byRole.set(role, [...(this.byRole.get(role) ?? []), target]);
    this.roleOf.set(key, role);
  }

  private role(change: Change): string {
    return this.roleOf.get(
      change.entitlement !== undefined ? `e:${change.entitlement}` : `l:${change.license}`,
    )!;
  }

  forget(): void {
    this.ready = undefined;
  }

  /** The database, ready to change: created if embedded and new, its group roles made where iden makes them. Plan never gets here. */
  private writable(): Promise<Database> {
    this.ready ??= (async () => {
      const db = (await this.connect(true))!;
      if (this.createRoles) {
        try {
          await this.createGroupRoles(db);
        } catch (e) {
          throw classify(e, 'creating the group roles');
        }
      }
      return db;
    })();
    return this.ready;
  }

  private async createGroupRoles(db: Database): Promise<void> {
    const existing = await this.existingRoles([...this.byRole.keys()], db.query);
    for (const role of this.byRole.keys()) {
      if (existing.has(role)) continue;
      await db.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`).catch((e: { code?: string }) => {
        // Another app on the same cluster created it meanwhile.
        if (e.code !== '42710' && e.code !== '23505') throw e;
      });
    }
  }

  private async existingRoles(names: string[], query: Query): Promise<Set<string>> {
    const rows = await query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
      [names],
    );
    return new Set(rows.map((r) => r.rolname));
  }

  /**
   * The managed roles' members that are people iden manages: login roles it
   * created (marked with its comment), never the connecting role, a
   * superuser, a group role or a role made by hand, which are reported once
   * as not managed and left alone. A managed member that cannot log in holds
   * its roles `disabled`: present, but not access.
   */
  async observe(): Promise<Held[]> {
    let members: Member[];
    try {
      const db = await this.connect(false);
      if (!db) return [];
      members = await this.members(db.query);
    } catch (e) {
      if (e instanceof ObserveError) throw e;
      throw new ObserveError(`cannot list role memberships: ${(e as Error).message}`, { cause: e });
    }
    const unmanaged = groupBy(
      members.filter((m) => m.unmanaged),
      (m) => m.member,
    );
    for (const [member, rows] of unmanaged) {
      this.notices.push(
        `${member} is a member of ${[...new Set(rows.map((r) => r.grp))].sort().join(', ')} but not a person iden manages (${rows[0]!.unmanaged}): left alone`,
      );
    }
    // An import also sees login roles made by hand, to say how to hand them over.
    const seen = (m: Member) =>
      !m.unmanaged || (this.context.importing === true && m.unmanaged === 'a role iden did not create');
    return members.filter(seen).flatMap(({ grp, member, canLogin, unmanaged }) =>
      (this.byRole.get(grp) ?? []).map((target) => ({
        account: member,
        ...target,
        ...(canLogin ? {} : { disabled: true }),
        ...(unmanaged
          ? {
              unowned: `${unmanaged}; to hand it to iden: COMMENT ON ROLE ${quoteIdent(member)} IS '${OWNED}', then import again`,
            }
          : {}),
      })),
    );
  }

  private async members(query: Query): Promise<Member[]> {
    const rows = await query<{
      grp: string;
      member: string;
      canlogin: boolean;
      super: boolean;
      me: boolean;
      note: string | null;
    }>(
      `SELECT DISTINCT g.rolname AS grp, m.rolname AS member, m.rolcanlogin AS canlogin, m.rolsuper AS super,
              m.rolname = current_user AS me, shobj_description(m.oid, 'pg_authid') AS note
         FROM pg_auth_members am
         JOIN pg_roles g ON g.oid = am.roleid
         JOIN pg_roles m ON m.oid = am.member
        WHERE g.rolname = ANY($1::text[])`,
      [[...this.byRole.keys()]],
    );
    return rows.map((r) => {
      const owned = r.note === OWNED;
      const unmanaged = r.me
        ? 'the role iden connects as'
        : r.super
          ? 'a superuser'
          : !owned && !r.canlogin
            ? 'a role that cannot log in: a group'
            : !owned
              ? 'a role iden did not create'
              : this.byRole.has(r.member)
                ? 'a managed group role'
                : undefined;
      return { grp: r.grp, member: r.member, canLogin: r.canlogin, owned, unmanaged };
    });
  }

  /** One step per account and direction, run in a transaction: the account's roles change together. */
  steps(changes: Change[]): Step[] {
    return [...groupBy(changes, (c) => `${c.action}\u0000${c.account}`).values()].map((batch) => ({
      changes: batch,
      run: async () =>
        inOrder(batch, await (batch[0]!.action === 'grant' ? this.grant(batch) : this.revoke(batch))),
    }));
  }

  /** What iden knows of a login role: absent, created by iden, or someone else's. */
  private async person(
    query: Query,
    account: string,
  ): Promise<{ owned: boolean; canLogin: boolean } | undefined> {
    const [row] = await query<{ canlogin: boolean; note: string | null; super: boolean; me: boolean }>(
      `SELECT rolcanlogin AS canlogin, rolsuper AS super, rolname = current_user AS me,
              shobj_description(oid, 'pg_authid') AS note
         FROM pg_roles WHERE rolname = $1`,
      [account],
    );
    if (!row) return undefined;
    return { owned: row.note === OWNED && !row.super && !row.me, canLogin: row.canlogin };
  }

  private notOwned(account: string): TerminalError {
    return new TerminalError(
      `the role ${account} exists but iden did not create it (or it is the connecting role, a superuser or a group): iden changes no role it does not own. To let iden manage it: COMMENT ON ROLE ${quoteIdent(account)} IS '${OWNED}'`,
    );
  }

  private async grant(batch: Change[]): Promise<Outcome[]> {
    const account = batch[0]!.account;
    return this.inTransaction(`granting roles to ${account}`, async (query) => {
      if (this.byRole.has(account))
        throw new TerminalError(`${account} is a group role this app manages, not a person`);
      const roles = [...new Set(batch.map((c) => this.role(c)))];
      const existing = await this.existingRoles(roles, query);
      const absent = roles.filter((r) => !existing.has(r));
      if (absent.length > 0) {
        throw new TerminalError(
          `group role ${absent.join(', ')} does not exist in the database; create it or set createRoles: true`,
        );
      }
      // The person's account is part of their first grant: created (and marked as iden's) if missing, let back in if shut.
      const person = await this.person(query, account);
      if (!person) {
        await query(`CREATE ROLE ${quoteIdent(account)} LOGIN`);
        await query(`COMMENT ON ROLE ${quoteIdent(account)} IS '${OWNED}'`);
      } else if (!person.owned) throw this.notOwned(account);
      else if (!person.canLogin) await query(`ALTER ROLE ${quoteIdent(account)} LOGIN`);
      const outcomes: Outcome[] = [];
      for (const change of batch) {
        const role = this.role(change);
        if (await this.isMember(query, role, account))
          outcomes.push(person && !person.canLogin ? 'granted' : 'unchanged');
        else {
          await query(`GRANT ${quoteIdent(role)} TO ${quoteIdent(account)}`);
          outcomes.push('granted');
        }
      }
      return outcomes;
    });
  }

  private async revoke(batch: Change[]): Promise<Outcome[]> {
    const account = batch[0]!.account;
    return this.inTransaction(`revoking roles from ${account}`, async (query) => {
      const person = await this.person(query, account);
      if (!person) return batch.map(() => 'unchanged');
      if (!person.owned) throw this.notOwned(account);
      const outcomes: Outcome[] = [];
      for (const change of batch) {
        const role = this.role(change);
        if (!(await this.isMember(query, role, account))) {
          outcomes.push('unchanged');
          continue;
        }
        await query(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(account)}`);
        if (await this.isMember(query, role, account)) {
          throw new TerminalError(
            `${account} is still a member of ${role} after REVOKE: the membership was granted by another role, which must revoke it`,
          );
        }
        outcomes.push('revoked');
      }
      // Login is cluster-wide: it goes only when no app on this cluster grants the person anything any more.
      const [left] = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members am
           JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
          WHERE m.rolname = $1 AND g.rolname = ANY($2::text[])`,
        [account, [...this.byRole.keys()]],
      );
      if (left?.n === 0 && person.canLogin && !this.context.stillGranted?.(account))
        await query(`ALTER ROLE ${quoteIdent(account)} NOLOGIN`);
      return outcomes;
    });
  }

  private async isMember(query: Query, role: string, account: string): Promise<boolean> {
    const rows = await query(
      `SELECT 1 FROM pg_auth_members am
         JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE g.rolname = $1 AND m.rolname = $2`,
      [role, account],
    );
    return rows.length > 0;
  }

  private async inTransaction(what: string, fn: (query: Query) => Promise<Outcome[]>): Promise<Outcome[]> {
    try {
      const db = await this.writable();
      return await db.transaction(fn);
    } catch (e) {
      throw classify(e, what);
    }
  }

  close(): Promise<void> {
    return this.release();
  }
}

// Connection trouble, too many connections, serialisation conflicts and a concurrent creation of
// the same role pass; a full disk (53100) and lack of memory stop the app.
const TRANSIENT_SQLSTATE = /^(08|53300|57P0|40001|40P01|23505|42710)/;
const STOPPING_SQLSTATE = /^(53100|53200|58030|25006)/;
const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function classify(e: unknown, what: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (e instanceof EmbeddedStoppedError) return new AppStoppedError(`${what}: ${e.message}`, { cause: e });
  const { code, message } = e as { code?: string; message?: string };
  const text = `${what}: ${message ?? String(e)}`;
  if (code && STOPPING_SQLSTATE.test(code)) return new AppStoppedError(text, { cause: e });
  if (
    (code && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_ERRNO.has(code))) ||
    /concurrently updated|Connection terminated/i.test(text)
  ) {
    return new TransientError(text, undefined, { cause: e });
  }
  return new TerminalError(text, { cause: e });
}
