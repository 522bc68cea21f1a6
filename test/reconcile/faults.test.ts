import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import { type Connector, TerminalError, TransientError } from '../../src/connectors/types.js';
import { loadRepo } from '../../src/load/repo.js';
import { applyChanges, type ChangeResult } from '../../src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../../src/reconcile/prepare.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { seedEmbedded, startServer } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

function repoOf(people: number, connector: string, grant: (i: number) => string[] | null): string {
  const ids = Array.from({ length: people }, (_, i) => `p${String(i).padStart(3, '0')}`);
  const tree: Record<string, string> = {
    'grants/_settings.yaml': `limits:\n  maxRemovals: 100000\n  maxRemovalShare: 1\n${NO_VERIFY}`,
    'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: P ${id}, email: ${id}@example.com }\n`).join('')}`,
    'grants/db/_app.yaml': `name: DB\nconnector: ${connector}\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\n`,
    '.gitignore': '.iden/\n',
  };
  for (const [i, id] of ids.entries()) {
    const permissions = grant(i);
    if (permissions)
      tree[`grants/db/${id}.yaml`] = `user: ${id}\napp: db\npermissions: [${permissions.join(', ')}]\n`;
  }
  return writeTree(tree);
}

/** Wraps a connector so a seeded share of its steps fail: before running, after running (a lost reply), or terminally. */
function flaky(inner: Connector, seed: number): Connector {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  return {
    ...inner,
    async open(app, context) {
      const session = await inner.open(app, context);
      return {
        concurrency: session.concurrency,
        observe: () => session.observe(),
        close: () => session.close(),
        steps: (changes) =>
          session.steps(changes).map((step) => ({
            changes: step.changes,
            async run() {
              const r = random();
              if (r < 0.15) throw new TransientError('injected: connection reset before the call');
              if (r < 0.25) throw new TerminalError('injected: refused');
              const outcomes = await step.run();
              if (r < 0.4) throw new TransientError('injected: reply lost after the change was made');
              return outcomes;
            },
          })),
      };
    },
  };
}

async function runOnce(dir: string, registry: Record<string, Connector>): Promise<ChangeResult[]> {
  const repo = await loadRepo(dir);
  const prepared = await preparePlan({
    repo,
    // History decides who was removed: the branch's first-parent history up to this commit.
    commit: git(dir, ['rev-parse', 'HEAD']).trim(),
    at: NOW,
    strict: true,
    allowMassRemoval: false,
    env: {},
    registry,
    lockTimeoutMs: 5_000,
  });
  try {
    expect(prepared.plan.skipped).toEqual([]);
    return await applyChanges(prepared.plan.changes, prepared.sessions, {
      retry: { attempts: 2, baseMs: 1, maxMs: 2 },
    });
  } finally {
    await closeSessions(prepared.sessions);
  }
}

async function memberships(dir: string): Promise<string[]> {
  const repo = await loadRepo(dir);
  const prepared = await preparePlan({
    repo,
    at: NOW,
    strict: true,
    allowMassRemoval: true,
    env: process.env,
    registry: connectors,
    lockTimeoutMs: 5_000,
  });
  try {
    return Object.keys(prepared.plan.observed).length === 1 ? await observed(prepared) : [];
  } finally {
    await closeSessions(prepared.sessions);
  }
}

async function observed(prepared: Awaited<ReturnType<typeof preparePlan>>): Promise<string[]> {
  const held = await prepared.sessions.get('db')!.observe();
  return held.map((h) => `${h.account} ${h.entitlement}`).sort();
}

describe('faults during apply', () => {
  it('converges through transient, terminal and lost-reply failures; nothing granted twice, nothing lost', async () => {
    const dir = repoOf(30, '{ type: postgres }', () => ['readonly', 'writer']);
    commitAll(dir, 'thirty people');
    seedEmbedded(dir, 'db');
    const flakyRegistry = { ...connectors, postgres: flaky(connectors.postgres!, 7) };

    const granted = new Map<string, number>();
    const runs: number[] = [];
    const converge = async () => {
      for (let run = 0; run < 12; run++) {
        const results = await runOnce(dir, flakyRegistry);
        runs.push(results.length);
        for (const r of results) {
          if (r.outcome === 'granted')
            granted.set(
              `${r.account} ${r.entitlement}`,
              (granted.get(`${r.account} ${r.entitlement}`) ?? 0) + 1,
            );
        }
        if (results.length === 0) return;
      }
      throw new Error(`did not converge: ${runs.join(', ')}`);
    };
    await converge();
    // One batch of 60 changes a run (the embedded database takes one step at a time): a fault costs a run.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect([...granted.values()].every((n) => n === 1)).toBe(true);
    const want = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(3, '0')}`).flatMap((id) => [
      `${id} readonly`,
      `${id} writer`,
    ]);
    expect(await memberships(dir)).toEqual(want.sort());

    // Now a mix of removals and grants: every third person loses writer, every fifth leaves.
    const changed = repoOf(30, '{ type: postgres }', (i) =>
      i % 5 === 0 ? null : i % 3 === 0 ? ['readonly'] : ['readonly', 'writer'],
    );
    rmSync(join(dir, 'grants'), { recursive: true });
    cpSync(join(changed, 'grants'), join(dir, 'grants'), { recursive: true });
    commitAll(dir, 'some leave, some lose writer');
    runs.length = 0;
    await converge();
    const expected = Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => i % 5 !== 0)
      .flatMap((i) => {
        const id = `p${String(i).padStart(3, '0')}`;
        return i % 3 === 0 ? [`${id} readonly`] : [`${id} readonly`, `${id} writer`];
      });
    expect(await memberships(dir)).toEqual(expected.sort());
  });
});

describe('a run killed mid-apply', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    server = await startServer(join(mkdtempSync(join(tmpdir(), 'iden-kill-')), 'data'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await server.stop();
  });

  it('is repaired by the next run, which grants only what is missing', async () => {
    // Six batches of 500 (two at a time): the kill comes once the first is seen, with most still to
    // come however slow the machine (with two batches, a loaded machine finished both before the kill).
    const people = 3_000;
    const dir = repoOf(
      people,
      '{ type: postgres, urlEnv: DB_URL, createRoles: true, concurrency: 2 }',
      () => ['readonly'],
    );
    commitAll(dir, 'a thousand people');
    const env = { ...process.env, DB_URL: server.url, CI: 'true' };
    const count = async () =>
      (
        await server.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid WHERE g.rolname = 'db_read'",
        )
      ).rows[0]!.n;

    child = spawn(
      process.execPath,
      [join(packageRoot(), 'dist/src/cli/bin.js'), 'reconcile', '--yes', '--repo', dir],
      { env, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while ((await count()) < 510 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    // The server has closed the killed run's sessions, rolling back what they had open.
    await vi.waitFor(() => expect(server.connections()).toBe(0), { timeout: 10_000 });
    const present = await count();
    // PGlite behind pglite-socket is one session: the count above may have seen the killed
    // run's open transaction, which the kill rolled back. What committed before it stays.
    expect(present).toBeGreaterThan(0);
    expect(present).toBeLessThan(people);

    const repair = await runCli(['reconcile', '--yes', '--repo', dir], { env: { DB_URL: server.url } });
    expect(repair.code).toBe(0);
    // The killed run's lock is taken over, and what it had journaled becomes its record.
    expect(repair.stderr).toMatch(/took over .*lock, left by iden reconcile \(pid \d+/);
    expect(repair.stderr).toMatch(
      /an earlier run left its journal without a record \(it was killed, or its record could not be written\): apply record \w+ kept as a git note/,
    );
    const notes = git(dir, ['notes', '--ref=refs/notes/iden', 'show', 'HEAD'])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { interrupted?: boolean; changes: { outcome: string }[] });
    expect(notes[0]!.interrupted).toBe(true);
    expect(notes[0]!.changes.length).toBeGreaterThan(0);
    expect(notes[0]!.changes.length).toBeLessThanOrEqual(present);
    expect(notes[0]!.changes.every((c) => c.outcome === 'granted')).toBe(true);
    expect(notes[1]!.interrupted).toBeUndefined();
    expect(repair.stdout).toContain(`Plan: ${people - present} to grant, 0 to revoke`);
    expect(repair.stdout).toContain(
      `Applied: ${people - present} granted, 0 revoked, 0 unchanged, 0 failed.`,
    );
    expect(await count()).toBe(people);
    const again = await runCli(['plan', '--repo', dir, '--detailed-exitcode'], {
      env: { DB_URL: server.url },
    });
    expect(again.code).toBe(0);
  }, 120_000);
});
