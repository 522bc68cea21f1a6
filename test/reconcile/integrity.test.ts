import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/model/clock.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { type FileTree, NO_VERIFY, writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
const bin = join(packageRoot(), 'dist/src/cli/bin.js');

/** An access repository with one embedded app `db`, `n` people each granted readonly, committed. */
function dbRepo(n: number, extra: FileTree = {}): string {
  const ids = Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, '0')}`);
  const dir = writeTree({
    '.gitignore': '.iden/\n',
    'grants/_settings.yaml': `timezone: UTC\nlimits: { maxRemovals: 1000 }\n${NO_VERIFY}`,
    'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}  - { id: bob, name: Bob, email: bob@example.com, accounts: { db: bob_o } }\n`,
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\n',
    'grants/db/bob.yaml': 'user: bob\napp: db\npermissions: [readonly, writer]\n',
    ...Object.fromEntries(
      ids.map((id) => [`grants/db/${id}.yaml`, `user: ${id}\napp: db\npermissions: [readonly]\n`]),
    ),
    ...extra,
  });
  commitAll(dir, 'access');
  seedEmbedded(dir, 'db');
  return dir;
}

async function sql<T>(dir: string, text: string): Promise<T[]> {
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'db'));
  try {
    return (await db.query<T>(text)).rows;
  } finally {
    await db.close();
  }
}

const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.account} ${c.entitlement ?? c.license} ${c.reason}`);
async function plan(dir: string, ...extra: string[]): Promise<Plan> {
  return JSON.parse(
    (await runCli(['plan', '--repo', dir, '--format', 'json', '--at', NOW, ...extra])).stdout,
  ) as Plan;
}

function notes(
  dir: string,
  ref = 'HEAD',
): { command: string; interrupted?: boolean; changes: { account: string; outcome: string }[] }[] {
  try {
    return git(dir, ['notes', '--ref=refs/notes/iden', 'show', ref])
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

describe('a saved plan is sealed to what it was planned from', () => {
  it('asks before applying, and needs --yes off a terminal', async () => {
    const dir = dbRepo(2);
    const out = join(dir, '..', `plan-${Date.now()}.json`);
    await runCli(['plan', '--repo', dir, '--at', NOW, '--out', out]);
    const declined = await runCli(['apply', out, '--repo', dir], { answer: false });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('nothing was changed');
    const noTty = await runCli(['apply', out, '--repo', dir]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('pass --yes');
    expect(brief(await plan(dir))).toHaveLength(4);
    const applied = await runCli(['apply', out, '--repo', dir], { answer: true });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied: 4 granted');
    expect(notes(dir).map((n) => n.command)).toEqual(['apply']);
  });

  it('refuses a plan edited to grant a stranger, changing nothing', async () => {
    const dir = dbRepo(2);
    const out = join(dir, '..', `plan-${Date.now()}.json`);
    await runCli(['plan', '--repo', dir, '--at', NOW, '--out', out]);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    saved.changes.push({
      action: 'grant',
      app: 'db',
      user: 'mallory',
      account: 'mallory',
      entitlement: 'writer',
      reason: 'new-grant',
    });
    writeFileSync(out, JSON.stringify(saved));
    const refused = await runCli(['apply', out, '--repo', dir, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "the plan's changes are not what planning that commit at 2026-11-27T12:00:00.000Z gives (not asked for by the repository: grant db mallory mallory writer new-grant)",
    );
    expect(refused.stderr).toContain('nothing was changed');
    expect(await sql(dir, "SELECT 1 FROM pg_roles WHERE rolname = 'mallory'")).toEqual([]);
  });

  it('refuses a plan made before a commit, from another repository, or not a plan at all', async () => {
    const dir = dbRepo(2);
    const out = join(dir, '..', `plan-${Date.now()}.json`);
    await runCli(['plan', '--repo', dir, '--at', NOW, '--out', out]);
    rmSync(join(dir, 'grants/db/p000.yaml'));
    commitAll(dir, 'p000 leaves');
    const moved = await runCli(['apply', out, '--repo', dir, '--yes']);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(/the plan was made from commit \w{12}, and HEAD is \w{12}: plan again/);
    expect(await sql(dir, "SELECT 1 FROM pg_roles WHERE rolname = 'p000'")).toEqual([]);

    const other = dbRepo(2);
    git(other, ['commit', '-q', '--amend', '--no-edit'], '2026-11-21T09:00:00Z');
    const elsewhere = await runCli(['apply', out, '--repo', other, '--yes']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('the plan was made in another repository');

    const saved = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    writeFileSync(out, JSON.stringify({ ...saved, formatVersion: 2 }));
    const future = await runCli(['apply', out, '--repo', dir, '--yes']);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('its format version is 2, and this iden reads 1');
  });
});

describe('only committed state is provisioned', () => {
  it('ignores an untracked grant and a modified one, says so, and records on the commit reconciled', async () => {
    const dir = dbRepo(1);
    writeFileSync(join(dir, 'grants/db/heidi.yaml'), 'user: heidi\napp: db\npermissions: [readonly]\n');
    writeFileSync(join(dir, 'grants/db/p000.yaml'), 'user: p000\napp: db\npermissions: [readonly, writer]\n');
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /notice: 2 files under grants\/ differ from \w{12} \(uncommitted\): using the committed content/,
    );
    expect(run.stdout).not.toContain('heidi');
    expect(run.stdout).toContain('Applied: 3 granted');
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    expect(notes(dir, head)).toHaveLength(1);
    // The run's lock and journal live in the git directory, where no commit can put them; nothing shows in the work tree.
    expect(existsSync(join(dir, '.git', 'iden', 'lock'))).toBe(false);
    expect(existsSync(join(dir, '.git', 'iden', 'journal'))).toBe(true);
    expect(git(dir, ['status', '--porcelain']).split('\n').filter(Boolean).sort()).toEqual([
      ' M grants/db/p000.yaml',
      '?? grants/db/heidi.yaml',
    ]);
  });

  it('reads the committed blob, not what a .gitattributes filter makes of the checkout', async () => {
    const dir = dbRepo(1);
    writeFileSync(join(dir, '.gitattributes'), 'grants/db/p000.yaml working-tree-encoding=UTF-16LE\n');
    git(dir, ['add', '.gitattributes']);
    git(dir, ['commit', '-q', '-m', 'an attribute that re-encodes the checkout']);
    // The checkout is UTF-16: unreadable as YAML, while git holds the UTF-8 the check read.
    rmSync(join(dir, 'grants/db/p000.yaml'));
    git(dir, ['checkout', '--', 'grants/db/p000.yaml']);
    expect(readFileSync(join(dir, 'grants/db/p000.yaml')).includes(0)).toBe(true);
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('+ p000  db  readonly  new grant');
  });
});

describe('one run at a time', () => {
  it('two runs started together apply each change once, write one record, and leave a consistent catalog', async () => {
    const dir = dbRepo(120);
    rmSync(join(dir, '.iden'), { recursive: true, force: true }); // a concurrent first start, too
    const start = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [bin, 'reconcile', '--yes', '--no-push', '--repo', dir, '--at', NOW],
          {
            env: { ...process.env, CI: 'true' },
          },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('exit', (code) => resolve({ code, out, err }));
      });
    const [a, b] = await Promise.all([start(), start()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const granted = (r: { out: string }) => Number(/Applied: (\d+) granted/.exec(r.out)?.[1] ?? 0);
    expect(granted(a) + granted(b)).toBe(122);
    expect([a.out, b.out].filter((o) => o.includes('Plan: 0 to grant, 0 to revoke'))).toHaveLength(1);
    expect(`${a.err}${b.err}`).toMatch(/waiting for iden reconcile \(pid \d+/);
    expect(notes(dir)).toHaveLength(1);
    expect(await sql(dir, 'SELECT rolname FROM pg_roles GROUP BY rolname HAVING count(*) > 1')).toEqual([]);
    const members = await sql<{ n: number }>(
      dir,
      "SELECT count(*)::int AS n FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid WHERE g.rolname = 'db_read'",
    );
    expect(members[0]!.n).toBe(121);
  }, 120_000);

  it('gives up after --lock-timeout with a clear message, and takes over a dead run’s lock', async () => {
    const dir = dbRepo(1);
    mkdirSync(join(dir, '.git', 'iden'), { recursive: true });
    writeFileSync(
      join(dir, '.git', 'iden', 'lock'),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        started: '2026-11-27T11:00:00Z',
        command: 'iden apply',
      }),
    );
    const busy = await runCli(['plan', '--repo', dir, '--at', NOW, '--lock-timeout', '300ms']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(
      /iden: iden apply \(pid \d+ on .+, since 2026-11-27T11:00:00Z\) holds .*lock; waited \d+ms\. Nothing was changed/,
    );
    // A pid that no longer runs: its lock is taken over.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('exit', resolve));
    mkdirSync(join(dir, '.git', 'iden'), { recursive: true });
    writeFileSync(
      join(dir, '.git', 'iden', 'lock'),
      JSON.stringify({
        pid: dead.pid,
        host: hostname(),
        started: '2026-11-27T11:00:00Z',
        command: 'iden apply',
      }),
    );
    const taken = await runCli(['plan', '--repo', dir, '--at', NOW, '--lock-timeout', '300ms']);
    expect(taken.code).toBe(0);
    expect(taken.stderr).toContain(
      `left by iden apply (pid ${dead.pid}, since 2026-11-27T11:00:00Z), which is no longer running`,
    );
    expect(existsSync(join(dir, '.iden', 'lock'))).toBe(false);
    expect((await runCli(['plan', '--repo', dir, '--lock-timeout', 'soon'])).code).toBe(2);
  });
});

describe('offboarding and retirement revoke', () => {
  it('revokes the account a person had when their grant and their entry go in one commit', async () => {
    const dir = dbRepo(1);
    await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    rmSync(join(dir, 'grants/db/bob.yaml'));
    const people = join(dir, 'grants/_people.yaml');
    writeFileSync(people, readFileSync(people, 'utf8').replace(/ {2}- \{ id: bob.*\n/, ''));
    commitAll(dir, 'bob leaves the company');
    expect(brief(await plan(dir))).toEqual([
      'revoke bob_o bob_o readonly removed',
      'revoke bob_o bob_o writer removed',
    ]);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    expect(await sql(dir, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'bob_o'")).toEqual([
      { rolcanlogin: false },
    ]);
  });

  it('revokes an entitlement the app no longer declares, and an old role mapping, whatever prune says', async () => {
    const dir = dbRepo(1);
    await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    writeFileSync(join(dir, 'grants/db/bob.yaml'), 'user: bob\napp: db\npermissions: [readonly]\n');
    writeFileSync(
      join(dir, 'grants/db/_app.yaml'),
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n',
    );
    commitAll(dir, 'writer is retired');
    expect(brief(await plan(dir))).toEqual(['revoke bob bob_o writer@retired retired']);
    const status = await runCli(['status', '--repo', dir, '--at', NOW]);
    expect(status.stdout).toMatch(/^db\s+pending\s+0 to grant, 1 to revoke/m);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    expect(brief(await plan(dir))).toEqual([]);

    // readonly now maps to another role: the old one's members are revoked, the new one granted.
    writeFileSync(
      join(dir, 'grants/db/_app.yaml'),
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read2 }\n',
    );
    commitAll(dir, 'readonly moves to db_read2');
    expect(brief(await plan(dir))).toEqual([
      'grant bob bob_o readonly new-grant',
      'revoke bob bob_o readonly@retired retired',
      'grant p000 p000 readonly new-grant',
      'revoke p000 p000 readonly@retired retired',
    ]);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    expect(
      await sql(
        dir,
        "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = 'db_read'",
      ),
    ).toEqual([]);
  });
});

describe('only what was applied on the branch decides', () => {
  it('retires no mapping that lived only in an intermediate commit: a role added and removed again is taken from no one', async () => {
    const dir = dbRepo(1);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    // A role made by hand, which bob holds.
    await sql(dir, 'CREATE ROLE db_admin NOLOGIN');
    await sql(dir, 'GRANT db_admin TO bob_o');
    // "Rebase and merge" puts both commits of a pull request on the branch: one maps admin, the next takes it out.
    const app = readFileSync(join(dir, 'grants/db/_app.yaml'), 'utf8');
    writeFileSync(join(dir, 'grants/db/_app.yaml'), `${app}  - { id: admin, kind: role, role: db_admin }\n`);
    commitAll(dir, 'map admin');
    writeFileSync(join(dir, 'grants/db/_app.yaml'), app);
    commitAll(dir, 'no, do not');
    // No run applied the version that mapped it: it managed nothing, and retires nothing.
    expect(brief(await plan(dir))).toEqual([]);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    expect(
      await sql(
        dir,
        "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = 'db_admin'",
      ),
    ).toEqual([{ rolname: 'bob_o' }]);
  });

  it('takes a removal from the branch’s first-parent history only, not from a merged branch’s own commits', async () => {
    const dir = dbRepo(1);
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    // mallory holds readonly, given by hand to a role made as iden makes them: drift, and prune is off.
    await sql(dir, 'CREATE ROLE mallory LOGIN');
    await sql(dir, "COMMENT ON ROLE mallory IS 'managed by iden'");
    await sql(dir, 'GRANT db_read TO mallory');
    // On a branch, a grant for mallory is written and deleted again; the branch is merged.
    git(dir, ['checkout', '-q', '-b', 'side']);
    writeFileSync(
      join(dir, 'grants/_people.yaml'),
      `${readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')}  - { id: mallory, name: M, email: m@example.com }\n`,
    );
    writeFileSync(join(dir, 'grants/db/mallory.yaml'), 'user: mallory\napp: db\npermissions: [readonly]\n');
    commitAll(dir, 'mallory');
    rmSync(join(dir, 'grants/db/mallory.yaml'));
    commitAll(dir, 'no mallory');
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['merge', '-q', '--no-ff', '-m', 'merge side', 'side']);
    // The branch never held that grant: its access is drift, kept as prune says, not "removed".
    const planned = JSON.parse(
      (await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'])).stdout,
    ) as Plan;
    expect(planned.changes).toEqual([]);
    expect(planned.drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual([
      'mallory readonly drift',
    ]);
  });
});

describe('exit codes with --detailed-exitcode', () => {
  it('are 0 for no changes, 2 for changes and 1 for every error', async () => {
    const dir = dbRepo(1);
    const code = async (...args: string[]) =>
      (await runCli(['plan', '--repo', dir, '--detailed-exitcode', ...args])).code;
    expect(await code('--at', NOW)).toBe(2);
    expect(await code('--at', 'garbage')).toBe(1);
    expect(await code('--at', NOW, '--frobnicate')).toBe(1);
    expect(await code('--at', NOW, '--app', 'nope')).toBe(1);
    expect((await runCli(['plan', '--repo', dir, '--at', 'garbage'])).code).toBe(2);
    await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    expect(await code('--at', NOW)).toBe(0);
    writeFileSync(join(dir, 'grants/db/p000.yaml'), 'user: p000\napp: db\npermissions: [nope]\n');
    commitAll(dir, 'broken');
    expect(await code('--at', NOW)).toBe(1);
    const status = await runCli(['status', '--repo', dir, '--at', NOW]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^db\s+held\s+0 to grant, 0 to revoke, 0 drift, 1 held/m);
  });
});

describe('failures are fast and clear', () => {
  it('stops at once with the reason when the embedded database cannot write (a file size limit)', async () => {
    const dir = dbRepo(3);
    const started = Date.now();
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        'sh',
        [
          '-c',
          `ulimit -f 3000; exec "${process.execPath}" "${bin}" reconcile --yes --no-push --repo "${dir}" --at ${NOW}`,
        ],
        {
          env: { ...process.env, CI: 'true' },
        },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.out).toMatch(
      /error: db skipped: cannot observe: .*cannot write the embedded database in .*EFBIG/,
    );
    expect(result.out).not.toContain('Applied:');
  }, 60_000);
});

describe('smaller promises', () => {
  it('prints the version, rejects impossible offsets and --at without one', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version,
    );
    const dir = dbRepo(1);
    const noOffset = await runCli(['plan', '--repo', dir, '--at', '2027-01-01T10:00']);
    expect(noOffset.code).toBe(2);
    expect(noOffset.stderr).toContain('--at "2027-01-01T10:00" has no offset');
    const wild = await runCli(['plan', '--repo', dir, '--at', '2027-01-01T10:00:00+25:00']);
    expect(wild.stderr).toContain('beyond ±14:00');
    const asOf = await runCli(['audit', '--repo', dir, '--as-of', 'yesterday']);
    expect(asOf.stderr).toContain('--as-of "yesterday"');
  });

  it('dates the expiry commit of a run pinned with --at at that instant', async () => {
    const dir = dbRepo(1, {
      'grants/db/p000.yaml': 'user: p000\napp: db\npermissions: [readonly]\nend: 2026-12-01\n',
    });
    const run = await runCli([
      'reconcile',
      '--repo',
      dir,
      '--yes',
      '--commit',
      '--at',
      '2026-12-02T00:00:00Z',
    ]);
    expect(run.code).toBe(0);
    expect(git(dir, ['log', '-1', '--format=%cI %s']).trim()).toBe(
      '2026-12-02T00:00:00+00:00 expire: p000 from db (ended 2026-12-01)',
    );
  });
});

describe('the mass-removal limit holds for the whole organisation', () => {
  it('counts every app’s removals in a run limited to one app', async () => {
    const dir = dbRepo(0, {
      'grants/_settings.yaml': `timezone: UTC\nlimits: { maxRemovals: 3 }\n${NO_VERIFY}`,
      'grants/_people.yaml': `people:\n${['a', 'b', 'c', 'd'].map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
      'grants/db/bob.yaml': null,
      'grants/db2/_app.yaml':
        'name: DB2\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db2_read }\n',
      ...Object.fromEntries(
        ['a', 'b', 'c'].flatMap((id) => [
          [`grants/db/${id}.yaml`, `user: ${id}\napp: db\npermissions: [readonly]\n`],
          [`grants/db2/${id}.yaml`, `user: ${id}\napp: db2\npermissions: [readonly]\n`],
        ]),
      ),
    });
    seedEmbedded(dir, 'db2');
    expect((await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW])).code).toBe(0);
    // That run was half an hour ago.
    // The runs that follow are half an hour later, on their own clock.
    const later = new ManualClock(TEST_NOW + 30 * 60_000);
    for (const id of ['a', 'b', 'c']) {
      rmSync(join(dir, `grants/db/${id}.yaml`));
      rmSync(join(dir, `grants/db2/${id}.yaml`));
    }
    commitAll(dir, 'everyone leaves');
    for (const app of ['db', 'db2']) {
      const run = await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW, '--app', app], {
        clock: later,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        'blocked: the repository removes 6 assignments across all apps since the run of',
      );
    }
    expect(
      (
        await runCli(
          ['reconcile', '--repo', dir, '--yes', '--at', NOW, '--app', 'db', '--allow-mass-removal'],
          { clock: later },
        )
      ).code,
    ).toBe(0);
  });
});
