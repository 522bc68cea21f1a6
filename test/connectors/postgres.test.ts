import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import { ADVISORY_KEY } from '../../src/connectors/postgres/index.js';
import {
  type AppSpec,
  type Change,
  ObserveError,
  type Session,
  type StepResult,
  TerminalError,
  TransientError,
} from '../../src/connectors/types.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { clusterTools, NOW, prepareDatabase, serverRepo } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';
import { seedEmbedded, startServer } from '../helpers/postgres.js';

const postgres = connectors.postgres!;
const WEIRD = 'Robert"); DROP ROLE db_read; --';

function spec(connector: Record<string, unknown>): AppSpec {
  return {
    id: 'db',
    file: {
      name: 'Warehouse',
      connector: { type: 'postgres', ...connector },
      entitlements: [
        { id: 'readonly', kind: 'role', role: 'db_read' },
        { id: 'writer', kind: 'role', role: 'db_write' },
      ],
      licenses: [{ id: 'seat', seats: 5, role: 'db seat' }],
    },
  };
}

const change = (
  action: 'grant' | 'revoke',
  account: string,
  what: { entitlement?: string; license?: string },
): Change => ({
  action,
  app: 'db',
  user: account,
  account,
  reason: action === 'grant' ? 'new-grant' : 'removed',
  ...what,
});

/** Runs changes step by step and gives each change's outcome, in the order of `changes`. */
async function run(session: Session, changes: Change[]) {
  const results: StepResult[] = [];
  for (const step of session.steps(changes)) results.push(...(await step.run()));
  return changes.map((c) => results.find((r) => r.change === c)?.outcome);
}

const context = (repoRoot: string, env: NodeJS.ProcessEnv = {}) => ({ repoRoot, env, lockTimeoutMs: 5_000 });

const sorted = async (session: Session) =>
  (await session.observe()).map((h) => `${h.account} ${h.entitlement ?? `license:${h.license}`}`).sort();

/** The same behaviour is required of the embedded database, of PGlite over the wire, and of a real server. */
function contract(
  name: string,
  open: () => Promise<{
    session: Session;
    canLogin: (role: string) => Promise<boolean | undefined>;
    stop?: () => Promise<void>;
  }>,
) {
  describe(name, () => {
    let session: Session;
    let canLogin: (role: string) => Promise<boolean | undefined>;
    let stop: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ session, canLogin, stop } = await open());
    });
    afterAll(async () => {
      await session.close();
      await stop?.();
    });

    it('observes nothing in a fresh database', async () => {
      expect(await session.observe()).toEqual([]);
    });

    it('creates the account with the first grant and grants the roles, quoting every name', async () => {
      const changes = [
        change('grant', 'alice', { entitlement: 'readonly' }),
        change('grant', 'alice', { entitlement: 'writer' }),
        change('grant', 'alice', { license: 'seat' }),
        change('grant', WEIRD, { entitlement: 'readonly' }),
      ];
      expect(await run(session, changes)).toEqual(['granted', 'granted', 'granted', 'granted']);
      expect(await sorted(session)).toEqual(
        [`${WEIRD} readonly`, 'alice license:seat', 'alice readonly', 'alice writer'].sort(),
      );
      expect(await canLogin('alice')).toBe(true);
      expect(await canLogin(WEIRD)).toBe(true);
    });

    it('grants idempotently: granting what exists is unchanged', async () => {
      expect(await run(session, [change('grant', 'alice', { entitlement: 'readonly' })])).toEqual([
        'unchanged',
      ]);
    });

    it('revokes, and shuts the account (never drops it) when its last managed role goes', async () => {
      expect(await run(session, [change('revoke', 'alice', { entitlement: 'readonly' })])).toEqual([
        'revoked',
      ]);
      expect(await canLogin('alice')).toBe(true);
      const rest = [
        change('revoke', 'alice', { entitlement: 'writer' }),
        change('revoke', 'alice', { license: 'seat' }),
      ];
      expect(await run(session, rest)).toEqual(['revoked', 'revoked']);
      expect(await canLogin('alice')).toBe(false);
      expect(await run(session, rest)).toEqual(['unchanged', 'unchanged']);
    });

    it('lets a shut account back in with its next grant', async () => {
      expect(await run(session, [change('grant', 'alice', { entitlement: 'writer' })])).toEqual(['granted']);
      expect(await canLogin('alice')).toBe(true);
    });
  });
}

contract('postgres connector on embedded PGlite', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'iden-pg-embedded-'));
  seedEmbedded(repo, 'db');
  const session = await postgres.open(spec({}), context(repo));
  // PGlite is one connection, in the session's thread: the test asks through the session's own database.
  const db = () =>
    (
      session as unknown as {
        parts: {
          connect: (
            create: boolean,
          ) => Promise<{ query: (sql: string, p: unknown[]) => Promise<{ rolcanlogin: boolean }[]> }>;
        };
      }
    ).parts.connect(true);
  const canLogin = async (role: string) =>
    (await (await db()).query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  return { session, canLogin };
});

contract('postgres connector through pg, against PGlite on the wire', async () => {
  const server = await startServer(join(mkdtempSync(join(tmpdir(), 'iden-pg-server-')), 'data'));
  const session = await postgres.open(
    spec({ urlEnv: 'DB_URL', createRoles: true }),
    context('/nonexistent', { DB_URL: server.url }),
  );
  const canLogin = async (role: string) =>
    (
      await server.db.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [
        role,
      ])
    ).rows[0]?.rolcanlogin;
  return { session, canLogin, stop: server.stop };
});

describe('postgres connector against a real PostgreSQL server', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'warehouse', ['db_read', 'db_write', 'db seat']);
  }, 60_000);
  afterAll(() => server?.stop());

  contract('the contract, as a CREATEROLE role with ADMIN OPTION', async () => {
    const session = await postgres.open(
      spec({ urlEnv: 'DB_URL' }),
      context('/x', { DB_URL: server.url('iden', 'warehouse') }),
    );
    const canLogin = async (role: string) =>
      (
        await server.sql<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [
          role,
        ])
      )[0]?.rolcanlogin;
    return { session, canLogin };
  });

  it('fails a grant to a group role that does not exist, terminally, when it may not create roles', async () => {
    const app = spec({ urlEnv: 'DB_URL' });
    app.file.entitlements.push({ id: 'ghost', kind: 'role', role: 'no_such_role' });
    const session = await postgres.open(app, context('/x', { DB_URL: server.url('iden', 'warehouse') }));
    try {
      const [step] = session.steps([change('grant', 'bob', { entitlement: 'ghost' })]);
      await expect(step!.run()).rejects.toThrow(TerminalError);
      await expect(step!.run()).rejects.toThrow(/no_such_role does not exist/);
    } finally {
      await session.close();
    }
  });

  it('says which variable is missing; a refused connection passes, a database that does not exist does not', async () => {
    expect(postgres.missingCredentials(spec({ urlEnv: 'DB_URL' }), {})).toBe('DB_URL is not set');
    // prepare opens again what a TransientError refused; an ObserveError skips the app.
    await expect(
      postgres.open(spec({ url: 'postgres://postgres@127.0.0.1:1/postgres' }), context('/x')),
    ).rejects.toThrow(TransientError);
    await expect(
      postgres.open(spec({ url: 'postgres://postgres@127.0.0.1:1/postgres' }), context('/x')),
    ).rejects.toThrow(/cannot open the database: .*ECONNREFUSED/);
    await expect(postgres.open(spec({ url: server.url('iden', 'nowhere') }), context('/x'))).rejects.toThrow(
      ObserveError,
    );
  });

  it("waits for another session's advisory lock on the database, naming it, then gives up", async () => {
    const holder = new pg.Client({ connectionString: server.url('postgres', 'warehouse') });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [ADVISORY_KEY]);
      const notices: string[] = [];
      const started = Date.now();
      await expect(
        postgres.open(spec({ urlEnv: 'DB_URL' }), {
          ...context('/x', { DB_URL: server.url('iden', 'warehouse') }),
          lockTimeoutMs: 800,
          onNotice: (text) => notices.push(text),
        }),
      ).rejects.toThrow(
        /^a session that is not an iden run \(server pid \d+, role postgres\) holds the database's advisory lock \(key 7400202611\); waited 800ms\. Nothing was changed/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
      expect(notices).toEqual([
        expect.stringMatching(
          /^waiting for a session that is not an iden run \(server pid \d+, role postgres\) to finish/,
        ),
      ]);
    } finally {
      await holder.end();
    }
    const session = await postgres.open(
      spec({ urlEnv: 'DB_URL' }),
      context('/x', { DB_URL: server.url('iden', 'warehouse') }),
    );
    await session.close();
  });
});

describe('iden on a real PostgreSQL server', () => {
  // Roles are the cluster's: each case gets a cluster of its own.
  let server: PostgresServer;
  const { roles, memberOf, reconcile, plan, brief } = clusterTools(() => server);

  beforeEach(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'warehouse2', ['wh_read', 'wh_write']);
    await prepareDatabase(server, 'sales', ['sales_read']);
  }, 60_000);
  afterEach(() => server?.stop());

  it('creates a person once when two apps on one cluster run at once, and keeps their login while any app grants them', async () => {
    const { dir, env } = serverRepo(server, {
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
      'grants/db2/carol.yaml': 'user: carol\napp: db2\npermissions: [readonly]\n',
    });
    const bin = join(packageRoot(), 'dist/src/cli/bin.js');
    // Two checkouts, as two CI jobs would have: neither waits for the other's repository lock.
    const other = mkdtempSync(join(tmpdir(), 'iden-second-checkout-'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('git', ['clone', '-q', dir, other]);
    const start = (repo: string, app: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [bin, 'reconcile', '--yes', '--no-push', '--repo', repo, '--at', NOW, '--app', app],
          {
            env: { ...process.env, ...env, CI: 'true' },
            stdio: 'ignore',
          },
        );
        child.on('exit', resolve);
      });
    expect(await Promise.all([start(dir, 'db'), start(other, 'db2')])).toEqual([0, 0]);
    expect(await memberOf('carol')).toEqual(['sales_read', 'wh_read']);

    rmSync(join(dir, 'grants/db2/carol.yaml'));
    commitAll(dir, 'carol leaves sales');
    expect((await reconcile(dir, env, '--app', 'db2')).code).toBe(0);
    expect(await memberOf('carol')).toEqual(['wh_read']);
    expect(await roles('carol')).toMatchObject({ rolcanlogin: true });

    // Someone shuts her out by hand: the app that grants her access sees it, and lets her back in.
    await server.sql('ALTER ROLE carol NOLOGIN');
    const status = await runCli(['status', '--repo', dir, '--at', NOW, '--app', 'db'], { env });
    expect(status.stdout).toMatch(/^db\s+pending\s+1 to grant/m);
    expect(brief(await plan(dir, env, '--app', 'db'))).toEqual(['grant carol db readonly login-disabled']);
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await roles('carol')).toMatchObject({ rolcanlogin: true });
  }, 60_000);

  it('calls extra access drift, kept without prune, whether or not the person has other grants', async () => {
    const { dir, env } = serverRepo(
      server,
      { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n' },
      { prune: false },
    );
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    await server.sql('GRANT wh_write TO dave');
    // erin was given wh_write by hand before iden ever granted her anything.
    await server.sql(
      "CREATE ROLE erin LOGIN; COMMENT ON ROLE erin IS 'managed by iden'; GRANT wh_write TO erin",
    );
    writeFileSync(join(dir, 'grants/db/erin.yaml'), 'user: erin\napp: db\npermissions: [readonly]\n');
    commitAll(dir, 'erin joins');
    const p = await plan(dir, env, '--app', 'db');
    expect(brief(p)).toEqual(['grant erin db readonly new-grant']);
    expect(p.drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual([
      'dave writer drift',
      'erin writer drift',
    ]);
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await memberOf('dave')).toEqual(['wh_read', 'wh_write']);
  });

  it('plans without writing: group roles are created by apply', async () => {
    await server.sql('CREATE DATABASE fresh');
    await server.sql('GRANT CREATE ON DATABASE fresh TO iden');
    const { dir } = serverRepo(server, {
      'grants/db3/_app.yaml':
        'name: Fresh\nconnector: { type: postgres, urlEnv: DB3_URL, createRoles: true }\nentitlements:\n  - { id: readonly, kind: role, role: fresh_read }\n',
      'grants/db3/alice.yaml': 'user: alice\napp: db3\npermissions: [readonly]\n',
    });
    const env = { DB3_URL: server.url('iden', 'fresh') };
    expect(brief(await plan(dir, env, '--app', 'db3'))).toEqual(['grant alice db3 readonly new-grant']);
    expect(await roles('fresh_read')).toBeUndefined();
    expect((await reconcile(dir, env, '--app', 'db3')).code).toBe(0);
    expect(await roles('fresh_read')).toMatchObject({ rolcanlogin: false });
  });

  it('holds a grant whose account is too long or is a managed role, where it is written', async () => {
    const { dir, env } = serverRepo(server, {
      'grants/_people.yaml': `people:\n  - { id: frank, name: F, email: f@example.com, accounts: { db: ${'é'.repeat(40)} } }\n  - { id: gina, name: G, email: g@example.com, accounts: { db: wh_read } }\n`,
      'grants/db/frank.yaml': 'user: frank\napp: db\npermissions: [readonly]\n',
      'grants/db/gina.yaml': 'user: gina\napp: db\npermissions: [writer]\n',
    });
    const p = await plan(dir, env, '--app', 'db');
    expect(p.changes).toEqual([]);
    expect(p.held.map((h) => h.reason)).toEqual([
      expect.stringMatching(/is 80 bytes in UTF-8; PostgreSQL cuts names at 63 bytes/),
      expect.stringMatching(/is "wh_read", a role this app maps an entitlement or tier to/),
    ]);
    expect(await roles('wh_read')).toMatchObject({ rolcanlogin: false });
  });
});
