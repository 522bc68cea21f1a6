import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import { ADVISORY_KEY } from '../../src/connectors/postgres/index.js';
import {
  type AppSpec,
  AppStoppedError,
  type Change,
  type ConnectorContext,
  type Session,
  TransientError,
} from '../../src/connectors/types.js';
import { withRetry } from '../../src/reconcile/retry.js';
import { FAST, prepareDatabase } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';

const postgres = connectors.postgres!;

function spec(url: string, connector: Record<string, unknown> = {}): AppSpec {
  return {
    id: 'db',
    file: {
      name: 'Warehouse',
      connector: { type: 'postgres', url, ...connector },
      entitlements: [
        { id: 'readonly', kind: 'role', role: 'f_read' },
        { id: 'writer', kind: 'role', role: 'f_write' },
      ],
    },
  };
}

const grant = (account: string, entitlement = 'readonly'): Change => ({
  action: 'grant',
  app: 'db',
  user: account,
  account,
  entitlement,
  reason: 'new-grant',
});

/** A context whose notices can be awaited: the connector says when it loses its lock. */
function watched(): { context: ConnectorContext; notice: (pattern: RegExp) => Promise<string> } {
  const seen: string[] = [];
  const waiting: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  const context: ConnectorContext = {
    repoRoot: '/x',
    env: {},
    lockTimeoutMs: 5_000,
    onNotice: (text) => {
      seen.push(text);
      for (const w of waiting.filter((w) => w.pattern.test(text))) w.resolve(text);
    },
  };
  const notice = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const found = seen.find((t) => pattern.test(t));
      if (found) resolve(found);
      else waiting.push({ pattern, resolve });
    });
  return { context, notice };
}

async function runAll(session: Session, changes: Change[]) {
  const out = [];
  for (const step of session.steps(changes)) out.push(...(await step.run()));
  return out.map((r) => `${r.change.account} ${r.change.entitlement} ${r.outcome}`);
}

/** The server pid of the session holding iden's advisory lock on a database. */
async function lockHolder(server: PostgresServer, database: string): Promise<number | undefined> {
  const [row] = await server.sql<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1
        AND l.classid = ($2::bigint >> 32)::oid AND l.objid = ($2::bigint & 4294967295)::oid`,
    [database, ADVISORY_KEY],
  );
  return row?.pid;
}

describe('the postgres connector on a server that misbehaves', () => {
  let server: PostgresServer;
  const url = () => server.url('iden', 'faults');
  beforeAll(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'faults', ['f_read', 'f_write']);
  }, 60_000);
  afterAll(() => server?.stop());
  const sessions: Session[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
  });
  const open = async (app: AppSpec, context: ConnectorContext) => {
    const session = await postgres.open(app, context);
    sessions.push(session);
    return session;
  };

  it('shares one advisory lock between the apps of a run on one database, and lets it go with the last', async () => {
    const { context, notice } = watched();
    const notices: string[] = [];
    void notice(/waiting/).then((t) => notices.push(t));
    const [a, b] = await Promise.all([
      postgres.open(spec(url()), { ...context, lockTimeoutMs: 1_000 }),
      postgres.open({ ...spec(url()), id: 'db2' }, { ...context, lockTimeoutMs: 1_000 }),
    ]);
    expect(notices).toEqual([]);
    // Same cluster, whatever the URL says.
    expect(a!.targetKey).toMatch(/^postgres system \d+$/);
    expect(b!.targetKey).toBe(a!.targetKey);
    const holder = await lockHolder(server, 'faults');
    expect(holder).toBeDefined();
    await a!.close();
    expect(await lockHolder(server, 'faults')).toBe(holder);
    await b!.close();
    await vi.waitFor(async () => expect(await lockHolder(server, 'faults')).toBeUndefined());
  });

  it("names iden's own run holding the lock: its command, pid and host", async () => {
    const other = new pg.Client({
      connectionString: url(),
      application_name: 'iden reconcile (pid 4242 on ci-7)',
    });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [ADVISORY_KEY]);
      await expect(postgres.open(spec(url()), { ...watched().context, lockTimeoutMs: 0 })).rejects.toThrow(
        /^iden reconcile \(pid 4242 on ci-7\) \(server pid \d+, role iden\) holds the database's advisory lock/,
      );
    } finally {
      await other.end();
    }
  });

  it.each([
    {
      setting: { lockTimeoutMs: 300 },
      account: 'blocked',
      why: /canceling statement due to lock timeout \(SQLSTATE 55P03\); another session held a lock it needed for longer than lockTimeoutMs \(300 ms\)/,
    },
    {
      setting: { statementTimeoutMs: 300, lockTimeoutMs: 60_000 },
      account: 'slow',
      why: /canceling statement due to statement timeout \(SQLSTATE 57014\); it took longer than statementTimeoutMs \(300 ms\)/,
    },
  ])(
    "fails a change blocked by someone's open transaction after $setting, and the rest goes on",
    async ({ setting, account, why }) => {
      const session = await open(spec(url(), setting), watched().context);
      expect(await runAll(session, [grant(account)])).toEqual([`${account} readonly granted`]);
      const dba = new pg.Client({ connectionString: server.url('postgres', 'faults') });
      await dba.connect();
      try {
        await dba.query('BEGIN');
        await dba.query(`GRANT f_write TO ${account}`);
        const [held, free] = session.steps([grant(account, 'writer'), grant(`${account}-free`)]);
        const error = await held!.run().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TransientError);
        expect((error as Error).message).toMatch(new RegExp(`^granting roles to ${account}: ${why.source}`));
        expect((await free!.run()).map((r) => r.outcome)).toEqual(['granted']);
      } finally {
        await dba.query('ROLLBACK');
        await dba.end();
      }
      expect(await runAll(session, [grant(account, 'writer')])).toEqual([`${account} writer granted`]);
    },
  );

  it('stops the app, without dying, when the server restarts mid-run; a new run converges', async () => {
    const { context, notice } = watched();
    const session = await open(spec(url()), context);
    expect(await runAll(session, [grant('restart-a')])).toEqual(['restart-a readonly granted']);
    await server.restart();
    expect(await notice(/advisory lock was lost/)).toMatch(
      /^the connection holding the database's advisory lock was lost \(.*\): another run may now change this database; this app's remaining changes stop$/,
    );
    const [step] = session.steps([grant('restart-b')]);
    await expect(step!.run()).rejects.toThrow(AppStoppedError);
    await expect(step!.run()).rejects.toThrow(/the next run converges/);
    const again = await open(spec(url()), watched().context);
    expect(await runAll(again, [grant('restart-a'), grant('restart-b')])).toEqual([
      'restart-a readonly unchanged',
      'restart-b readonly granted',
    ]);
  });

  it('stops the app when the backend holding its lock is terminated, and survives its own being terminated', async () => {
    const { context, notice } = watched();
    const session = await open(spec(url()), context);
    // A statement's connection terminated: that change is retried, the lock still holds.
    await runAll(session, [grant('term-a')]);
    await server.sql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'iden%' AND pid <> $1",
      [await lockHolder(server, 'faults')],
    );
    // Through the one retry layer, as apply runs it: a dropped connection is a TransientError, tried again.
    const [step] = session.steps([grant('term-b')]);
    expect((await withRetry(() => step!.run(), { retry: FAST })).map((r) => r.outcome)).toEqual(['granted']);
    await server.sql('SELECT pg_terminate_backend($1)', [await lockHolder(server, 'faults')]);
    await notice(/advisory lock was lost/);
    await expect(session.steps([grant('term-c')])[0]!.run()).rejects.toThrow(AppStoppedError);
  });

  it("keeps its lock through the server's idle_session_timeout; idle statement connections just go", async () => {
    await server.sql("ALTER SYSTEM SET idle_session_timeout = '300ms'");
    await server.sql('SELECT pg_reload_conf()');
    try {
      const session = await open(spec(url()), watched().context);
      await session.observe();
      const idenSessions = async () =>
        (
          await server.sql<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'iden%'",
          )
        )[0]!.n;
      // The pool's idle connection is ended by the server; the lock's is not.
      await vi.waitFor(async () => expect(await idenSessions()).toBe(1), { timeout: 10_000, interval: 100 });
      expect(await lockHolder(server, 'faults')).toBeDefined();
      expect(await runAll(session, [grant('idle-a')])).toEqual(['idle-a readonly granted']);
    } finally {
      await server.sql('ALTER SYSTEM RESET idle_session_timeout');
      await server.sql('SELECT pg_reload_conf()');
    }
  });
});

describe('the postgres connector when the server refuses connections', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 8 });
    await prepareDatabase(server, 'crowded', ['f_read', 'f_write']);
  }, 60_000);
  afterAll(() => server?.stop());

  it('takes "too many clients" at open for a refusal that passes', async () => {
    const others = await Promise.all(
      // Every slot, those kept for superusers too: max_connections is reached.
      Array.from({ length: 8 }, async () => {
        const client = new pg.Client({ connectionString: server.url('postgres', 'crowded') });
        await client.connect();
        return client;
      }),
    );
    try {
      const opening = postgres.open(spec(server.url('iden', 'crowded')), watched().context);
      await expect(opening).rejects.toThrow(TransientError);
      await expect(opening).rejects.toThrow(/too many clients already \(SQLSTATE 53300\)/);
    } finally {
      await Promise.all(others.map((c) => c.end()));
    }
    const session = await postgres.open(spec(server.url('iden', 'crowded')), watched().context);
    await session.close();
  });
});
