import { join } from 'node:path';
import { groupBy } from '../../util/group-by.js';
import {
  type AppSpec,
  type Change,
  type Connector,
  type ConnectorContext,
  type Held,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TerminalError,
  TransientError,
  typed,
} from '../types.js';
import { type Database, embeddedDatabase, type Query, quoteIdent, serverDatabase } from './database.js';
import type { PostgresConnector, PostgresEntitlement, PostgresLicense } from './settings.generated.js';

/** Role membership in PostgreSQL: entitlements and tiers are group roles, people are login roles. */
export const postgres: Connector = {
  type: 'postgres',
  accountDefault: 'id',
  caseInsensitiveAccounts: false,
  missingCredentials(app, env) {
    const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
    if (settings.urlEnv && !env[settings.urlEnv]) return `${settings.urlEnv} is not set`;
    return undefined;
  },
  async open(app, context) {
    const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
    const url = settings.urlEnv ? context.env[settings.urlEnv] : settings.url;
    const concurrency = settings.concurrency ?? 4;
    let db: Database;
    try {
      db = url ? serverDatabase(url, concurrency) : await embeddedDatabase(embeddedPath(context, app));
    } catch (e) {
      throw new ObserveError(`cannot open the database: ${(e as Error).message}`, { cause: e });
    }
    const session = new PostgresSession(app, db, url ? concurrency : 1);
    try {
      if (settings.createRoles ?? !url) await session.createGroupRoles();
    } catch (e) {
      await db.close().catch(() => undefined);
      throw classify(e, 'creating the group roles');
    }
    return session;
  },
};

function embeddedPath(context: ConnectorContext, app: AppSpec): string {
  return join(context.repoRoot, '.iden', 'pglite', app.id);
}

class PostgresSession implements Session {
  /** Group role name to the entitlement and tier ids it stands for. */
  private readonly byRole = new Map<string, { entitlement?: string; license?: string }[]>();
  private readonly roleOf = new Map<string, string>();

  constructor(
    app: AppSpec,
    private readonly db: Database,
    readonly concurrency: number,
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

  async createGroupRoles(): Promise<void> {
    const existing = await this.existingRoles([...this.byRole.keys()]);
    for (const role of this.byRole.keys()) {
      if (!existing.has(role)) await this.db.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`);
    }
  }

  private async existingRoles(names: string[], query: Query = this.db.query): Promise<Set<string>> {
    const rows = await query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
      [names],
    );
    return new Set(rows.map((r) => r.rolname));
  }

  async observe(): Promise<Held[]> {
    let rows: { grp: string; member: string }[];
    try {
      rows = await this.db.query(
        `SELECT DISTINCT g.rolname AS grp, m.rolname AS member
           FROM pg_auth_members am
           JOIN pg_roles g ON g.oid = am.roleid
           JOIN pg_roles m ON m.oid = am.member
          WHERE g.rolname = ANY($1::text[])`,
        [[...this.byRole.keys()]],
      );
    } catch (e) {
      throw new ObserveError(`cannot list role memberships: ${(e as Error).message}`, { cause: e });
    }
    return rows.flatMap(({ grp, member }) =>
      (this.byRole.get(grp) ?? []).map((target) => ({ account: member, ...target })),
    );
  }

  /** One step per account and direction, run in a transaction: the account's roles change together. */
  steps(changes: Change[]): Step[] {
    return [...groupBy(changes, (c) => `${c.action}\u0000${c.account}`).values()].map((batch) => ({
      changes: batch,
      run: () => (batch[0]!.action === 'grant' ? this.grant(batch) : this.revoke(batch)),
    }));
  }

  private async grant(batch: Change[]): Promise<Outcome[]> {
    const account = batch[0]!.account;
    return this.inTransaction(`granting roles to ${account}`, async (query) => {
      const roles = [...new Set(batch.map((c) => this.role(c)))];
      const existing = await this.existingRoles(roles, query);
      const absent = roles.filter((r) => !existing.has(r));
      if (absent.length > 0) {
        throw new TerminalError(
          `group role ${absent.join(', ')} does not exist in the database; create it or set createRoles: true`,
        );
      }
      // The person's account is part of their first grant: created if missing, let back in if it was shut.
      const [login] = await query<{ rolcanlogin: boolean }>(
        'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
        [account],
      );
      if (!login) await query(`CREATE ROLE ${quoteIdent(account)} LOGIN`);
      else if (!login.rolcanlogin) await query(`ALTER ROLE ${quoteIdent(account)} LOGIN`);
      const outcomes: Outcome[] = [];
      for (const change of batch) {
        const role = this.role(change);
        if (await this.isMember(query, role, account)) outcomes.push('unchanged');
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
      // An account whose last managed membership went can no longer log in; it is never dropped.
      const [left] = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members am
           JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
          WHERE m.rolname = $1 AND g.rolname = ANY($2::text[])`,
        [account, [...this.byRole.keys()]],
      );
      if (left?.n === 0) await query(`ALTER ROLE ${quoteIdent(account)} NOLOGIN`);
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
      return await this.db.transaction(fn);
    } catch (e) {
      throw classify(e, what);
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

const TRANSIENT_SQLSTATE = /^(08|53|57P0|40001|40P01)/;
const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Connection trouble and serialisation conflicts are retried; anything else fails the change. */
function classify(e: unknown, what: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  const { code, message } = e as { code?: string; message?: string };
  const text = `${what}: ${message ?? String(e)}`;
  if (
    (code && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_ERRNO.has(code))) ||
    /concurrently updated|Connection terminated/i.test(text)
  ) {
    return new TransientError(text, undefined, { cause: e });
  }
  return new TerminalError(text, { cause: e });
}
