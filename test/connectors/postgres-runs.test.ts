import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { commitAll } from '../helpers/git.js';
import { clusterTools, NOW, prepareDatabase, serverRepo } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';

const ALICE = 'user: alice\napp: db\npermissions: [readonly]\n';
const BOB = 'user: bob\napp: db\npermissions: [readonly]\n';

/** db's _app.yaml with more connector settings. */
const dbApp = (settings: string) =>
  `name: Warehouse\nconnector: { type: postgres, urlEnv: DB_URL, ${settings} }\nentitlements:\n  - { id: readonly, kind: role, role: wh_read }\n  - { id: writer, kind: role, role: wh_write }\nprune: true\n`;

describe('iden runs against a real PostgreSQL server that misbehaves', () => {
  // Roles are the cluster's: each case gets a cluster of its own.
  let server: PostgresServer;
  let dba: pg.Client | undefined;
  const { roles, memberOf, reconcile, plan, brief } = clusterTools(() => server);

  beforeEach(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'warehouse2', ['wh_read', 'wh_write']);
    await prepareDatabase(server, 'sales', ['sales_read']);
  }, 60_000);
  afterEach(async () => {
    await dba?.end().catch(() => undefined);
    dba = undefined;
    await server?.stop();
  });

  /** alice is iden's, and a DBA's open transaction holds the very membership iden is about to grant her. */
  async function blockAlice(): Promise<void> {
    await server.sql("CREATE ROLE alice LOGIN; COMMENT ON ROLE alice IS 'managed by iden'");
    dba = new pg.Client({ connectionString: server.url('postgres', 'warehouse2') });
    dba.on('error', () => undefined);
    await dba.connect();
    await dba.query('BEGIN');
    await dba.query('GRANT wh_read TO alice');
  }

  /** iden as CI runs it, in a process of its own; resolves with its exit and what it printed. */
  function spawnRun(dir: string, env: NodeJS.ProcessEnv) {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        join(packageRoot(), 'dist/src/cli/bin.js'),
        'reconcile',
        '--yes',
        '--no-push',
        '--repo',
        dir,
        '--at',
        NOW,
      ],
      { env: { ...process.env, ...env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const exit = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
      (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, exit };
  }

  /** Resolves once a statement of an iden run is waiting for a lock: the run is mid-apply. */
  const blockedMidApply = () =>
    vi.waitFor(
      async () => {
        const rows = await server.sql(
          "SELECT 1 FROM pg_stat_activity WHERE usename = 'iden' AND wait_event_type = 'Lock'",
        );
        expect(rows).toHaveLength(1);
      },
      { timeout: 30_000, interval: 50 },
    );

  it('runs two apps on one database in one run: they share the lock instead of waiting for themselves', async () => {
    const { dir, env } = serverRepo(server, {
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
      'grants/db2/carol.yaml': 'user: carol\napp: db2\npermissions: [readonly]\n',
    });
    const run = await reconcile(dir, { ...env, DB2_URL: env.DB_URL }, '--lock-timeout', '3s');
    expect(run.stderr).not.toContain('waiting for');
    expect(run.code).toBe(0);
    expect(await memberOf('carol')).toEqual(['sales_read', 'wh_read']);
  });

  it("fails a change blocked by someone's open transaction with the reason, applies the rest, and converges once it ends", async () => {
    await blockAlice();
    const { dir, env } = serverRepo(server, {
      'grants/db/_app.yaml': dbApp('lockTimeoutMs: 300'),
      'grants/db/alice.yaml': ALICE,
      'grants/db/bob.yaml': BOB,
    });
    const run = await reconcile(dir, env, '--app', 'db');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/alice.*lock timeout.*lockTimeoutMs \(300 ms\)/);
    expect(await memberOf('bob')).toEqual(['wh_read']);
    await dba!.query('ROLLBACK');
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await memberOf('alice')).toEqual(['wh_read']);
    expect(brief(await plan(dir, env))).toEqual([]);
  });

  it('survives a server restart mid-apply, stopping the app; the next run converges and plans nothing', async () => {
    await blockAlice();
    const { dir, env } = serverRepo(server, {
      'grants/db/_app.yaml': dbApp('concurrency: 1'),
      'grants/db/alice.yaml': ALICE,
      'grants/db/bob.yaml': BOB,
    });
    const { exit } = spawnRun(dir, env);
    await blockedMidApply();
    await server.restart();
    const run = await exit;
    expect(run.stderr).not.toMatch(/Unhandled 'error' event|^\s+at /m);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("the connection holding the database's advisory lock was lost");
    const next = await reconcile(dir, env);
    expect(next.code).toBe(0);
    expect(await memberOf('alice')).toEqual(['wh_read']);
    expect(await memberOf('bob')).toEqual(['wh_read']);
    expect(brief(await plan(dir, env))).toEqual([]);
  }, 60_000);

  it('converges after a run killed with SIGKILL mid-apply: its lock and its transaction go with it', async () => {
    await blockAlice();
    const { dir, env } = serverRepo(server, {
      'grants/db/_app.yaml': dbApp('concurrency: 1'),
      'grants/db/alice.yaml': ALICE,
      'grants/db/bob.yaml': BOB,
    });
    const { child, exit } = spawnRun(dir, env);
    await blockedMidApply();
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    await dba!.query('ROLLBACK');
    const next = await reconcile(dir, env, '--lock-timeout', '5s');
    expect(next.stderr).not.toContain('waiting for');
    expect(next.code).toBe(0);
    expect(await memberOf('alice')).toEqual(['wh_read']);
    expect(await memberOf('bob')).toEqual(['wh_read']);
    expect(brief(await plan(dir, env))).toEqual([]);
  }, 60_000);

  it('knows 127.0.0.1 and localhost are one cluster: a login another app still grants stays open', async () => {
    const { dir, env } = serverRepo(server, {
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
      'grants/db2/carol.yaml': 'user: carol\napp: db2\npermissions: [readonly]\n',
    });
    const split = { ...env, DB2_URL: `postgres://iden@localhost:${server.port}/sales` };
    expect((await reconcile(dir, split)).code).toBe(0);
    rmSync(join(dir, 'grants/db2/carol.yaml'));
    commitAll(dir, 'carol leaves sales');
    // A run of db2 alone asks db's server who it is.
    expect((await reconcile(dir, split, '--app', 'db2')).code).toBe(0);
    expect(await memberOf('carol')).toEqual(['wh_read']);
    expect(await roles('carol')).toEqual({ rolcanlogin: true, note: 'managed by iden' });
    // And when db's grant goes too, so does her login.
    rmSync(join(dir, 'grants/db/carol.yaml'));
    commitAll(dir, 'carol leaves');
    expect((await reconcile(dir, split)).code).toBe(0);
    expect(await roles('carol')).toEqual({ rolcanlogin: false, note: 'managed by iden' });
  });
});
