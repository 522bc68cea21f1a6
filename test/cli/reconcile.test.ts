import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';

const NOW = '2026-11-27T12:00:00Z';

/** A git repository holding a copy of the example grants/, its embedded database already initialised. */
function exampleRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-reconcile-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'Example access repository');
  seedEmbedded(dir, 'analytics');
  return dir;
}

async function plan(dir: string, ...extra: string[]): Promise<Plan> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', NOW, ...extra]);
  return JSON.parse(result.stdout) as Plan;
}

const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.app} ${c.entitlement ?? c.license} ${c.reason}`);

/** Runs SQL against an app's embedded database while no iden run holds it. */
async function sql(dir: string, text: string): Promise<void> {
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'analytics'));
  await db.exec(text);
  await db.close();
}

describe('plan, apply, reconcile on the example repository', () => {
  it('plans, applies, and then plans nothing', async () => {
    const dir = exampleRepo();
    const first = await runCli(['plan', '--repo', dir, '--at', NOW, '--detailed-exitcode']);
    expect(first.code).toBe(2);
    expect(first.stdout).toContain('+ alice  analytics  readonly  new grant');
    expect(first.stdout).toContain('Plan: 4 to grant, 0 to revoke, 0 held, 2 apps skipped.');
    expect(first.stdout).toContain('notice: github skipped: no credentials: ACME_GITHUB_TOKEN is not set');

    const applied = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied: 4 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(applied.stderr).toContain('analytics: 4/4 done');

    const again = await runCli(['plan', '--repo', dir, '--at', NOW, '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Plan: 0 to grant, 0 to revoke, 0 held, 2 apps skipped.');

    // Past carol's end and erin's start: one expiry, one start.
    const later = await plan(dir, '--at', '2027-02-01T00:00:00+01:00');
    expect(brief(later)).toEqual([
      'revoke carol analytics readonly expired',
      'grant erin analytics readonly start-reached',
    ]);
    expect(later.changes[1]).toMatchObject({ account: 'erin_rossi', since: '2027-01-03T23:00:00.000Z' });
    expect(later.changes[0]).toMatchObject({ since: '2027-01-30T23:00:00.000Z' });
    const status = await runCli(['status', '--repo', dir, '--at', NOW]);
    expect(status.stdout).toMatch(/^analytics\s+in-sync\s+0 to grant/m);
  });

  it('revokes a deleted grant file as removed, and removes drift only where the app prunes', async () => {
    const dir = exampleRepo();
    expect((await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes'])).code).toBe(0);
    rmSync(join(dir, 'grants/analytics/alice.yaml'));
    commitAll(dir, 'Remove alice from analytics');
    // bob's grant never gave writer: granted by hand, it is drift. mallory is a login iden never made:
    // its access is drift like anyone's, its login never iden's to change.
    await sql(
      dir,
      'GRANT analytics_write TO bob; CREATE ROLE mallory LOGIN; GRANT analytics_read TO mallory;',
    );

    const p = await plan(dir);
    expect(brief(p)).toEqual([
      'revoke alice analytics readonly removed',
      'revoke alice analytics writer removed',
      'revoke bob analytics writer drift',
      'revoke mallory analytics readonly drift',
    ]);
    expect(p.drift.map((d) => d.user)).toEqual(['bob', 'mallory']);

    const app = join(dir, 'grants/analytics/_app.yaml');
    writeFileSync(app, readFileSync(app, 'utf8').replace('prune: true', 'prune: false'));
    commitAll(dir, 'analytics keeps drift');
    const kept = await runCli(['plan', '--repo', dir, '--at', NOW]);
    expect(kept.stdout).toContain('Drift, kept because the app does not set prune: true:');
    expect(kept.stdout).toContain('~ bob      analytics  writer    no grant gives this');
    expect(kept.stdout).toContain('~ mallory  analytics  readonly  no grant gives this');
    expect(kept.stdout).toContain('Plan: 0 to grant, 2 to revoke');

    expect((await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes'])).code).toBe(0);
    const after = await plan(dir);
    expect(after.changes).toEqual([]);
    expect(after.drift.map((d) => d.user)).toEqual(['bob', 'mallory']);
  });

  it('refuses a mass removal unless allowed, changing nothing', async () => {
    const dir = exampleRepo();
    await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes']);
    const settings = join(dir, 'grants/_settings.yaml');
    writeFileSync(settings, readFileSync(settings, 'utf8').replace('maxRemovals: 25', 'maxRemovals: 1'));
    rmSync(join(dir, 'grants/analytics/alice.yaml'));
    commitAll(dir, 'Remove alice');

    const refused = await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      'blocked: the plan removes 2 assignments, more than limits.maxRemovals (1)',
    );
    expect(brief(await plan(dir))).toHaveLength(2);

    const allowed = await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes', '--allow-mass-removal']);
    expect(allowed.code).toBe(0);
    expect(brief(await plan(dir))).toEqual([]);
  });

  it("holds a person whose grant file breaks, while everyone else's changes go ahead", async () => {
    const dir = exampleRepo();
    await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes']);
    writeFileSync(
      join(dir, 'grants/analytics/bob.yaml'),
      'user: bob\napp: analytics\npermissions: [readonlyy]\n',
    );
    writeFileSync(
      join(dir, 'grants/analytics/heidi.yaml'),
      'user: heidi\napp: analytics\npermissions: [readonly]\n',
    );
    commitAll(dir, 'bob breaks his grant; heidi joins');

    const run = await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'held: bob in analytics is left as it is: grants/analytics/bob.yaml does not validate',
    );
    expect(run.stdout).toContain('+ heidi  analytics  readonly  new grant');
    expect(run.stdout).not.toMatch(/- bob/);
    expect(run.stdout).toContain('Applied: 1 granted');
  });

  it('fails with --strict when an app has no credentials, and for an unknown --app', async () => {
    const dir = exampleRepo();
    const strict = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('error: github skipped: no credentials: ACME_GITHUB_TOKEN is not set');
    const only = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict', '--app', 'analytics']);
    expect(only.code).toBe(0);
    expect(only.stdout).toContain('Plan: 4 to grant, 0 to revoke, 0 held, 0 apps skipped.');
    expect((await runCli(['plan', '--repo', dir, '--app', 'jira'])).code).toBe(2);
  });

  it('fails a run whose app has credentials but cannot be observed, never reading it as empty', async () => {
    const dir = exampleRepo();
    // A GitHub that refuses the token: the app has credentials, but nothing can be read.
    const refusing = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' }),
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const run = await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes'], {
        env: { ACME_GITHUB_TOKEN: 'x', GITHUB_API_URL: url },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /error: github skipped: cannot observe: cannot read GitHub organisation acme: GitHub answered 401 to GET \/orgs\/acme\/\S+: Bad credentials/,
      );
      expect(run.stdout).not.toMatch(/^[+-] \S+ +github/m);
      expect(run.stdout).toContain('Applied: 4 granted');
    } finally {
      refusing.close();
    }
  });

  it("runs the apply workflow's own command: a held grant and an unreachable app fail the job, every other app is applied", async () => {
    const dir = exampleRepo();
    writeFileSync(
      join(dir, 'grants/analytics/bob.yaml'),
      'user: bob\napp: analytics\npermissions: [readonlyy]\n',
    );
    commitAll(dir, 'bob breaks his grant');
    const workflow = readFileSync(join(packageRoot(), '.github/workflows/iden-apply.yml'), 'utf8');
    const command = /run: npx --no-install iden (apply [^\n]*)/.exec(workflow)![1]!.split(' ');
    // Nothing listens there: GitHub cannot be reached at all.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli([...command, '--repo', dir, '--at', NOW], {
      env: { ACME_GITHUB_TOKEN: 'x', GITHUB_API_URL: url, IDEN_RECORD_KEY: 'k'.repeat(32) },
      cwd: dir,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/error: github skipped: cannot observe: /);
    expect(run.stdout).toContain('held: bob in analytics is left as it is');
    expect(run.stdout).toContain('Applied: 3 granted, 0 revoked');
    expect(existsSync(join(dir, 'iden-record.jsonl'))).toBe(true);
    expect(brief(await plan(dir, '--app', 'analytics'))).toEqual([]);
  });

  it('applies exactly a saved plan, and refuses it once the app has changed', async () => {
    const dir = exampleRepo();
    const out = join(dir, 'plan.json');
    await runCli(['plan', '--repo', dir, '--at', NOW, '--out', out]);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    expect(saved.changes).toHaveLength(4);
    const stepSummary = join(dir, '..', `summary-${Date.now()}.md`);
    const applied = await runCli(['apply', out, '--repo', dir, '--yes'], {
      env: { GITHUB_STEP_SUMMARY: stepSummary },
    });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied: 4 granted');
    // In GitHub Actions a saved plan's apply writes the job summary, as apply without one does.
    const written = readFileSync(stepSummary, 'utf8');
    expect(written).toContain('| ➕ | alice | analytics | readonly | new grant |');
    expect(written).toContain('```\ngranted  alice  analytics  readonly\n');
    expect(written).toContain('Applied: 4 granted, 0 revoked, 0 unchanged, 0 failed.\n```');

    await runCli(['plan', '--repo', dir, '--at', '2027-02-01T00:00:00+01:00', '--out', out]);
    await sql(dir, 'GRANT analytics_write TO bob;');
    const stale = await runCli(['apply', out, '--repo', dir, '--yes']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('the plan is stale: what analytics holds changed since it was made');
    expect((await runCli(['apply', join(dir, 'grants/_people.yaml'), '--repo', dir])).code).toBe(2);
  });

  it('asks on a terminal and refuses without --yes elsewhere', async () => {
    const dir = exampleRepo();
    const declined = await runCli(['reconcile', '--repo', dir, '--at', NOW], { answer: false });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('nothing was changed');
    const noTty = await runCli(['reconcile', '--repo', dir, '--at', NOW]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('pass --yes');
    expect(brief(await plan(dir))).toHaveLength(4);
  });
});

describe('npm start on a fresh clone', () => {
  it('creates the embedded database, reconciles, and a second run changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-fresh-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    const first = await runCli(['reconcile', '--yes', '--repo', dir, '--at', NOW]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Applied: 4 granted');
    const second = await runCli(['reconcile', '--yes', '--repo', dir, '--at', NOW]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Plan: 0 to grant, 0 to revoke');
    expect(second.stderr).toContain('notice: not a git repository');
  }, 60_000);
});

describe('reconcile --commit', () => {
  it('removes ended grant files in one commit after their access goes, pushes it, and audit reads it as expiry', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'iden-expire-remote-'));
    git(remote, ['init', '-q', '--bare', '-b', 'main']);
    const dir = exampleRepo();
    git(dir, ['remote', 'add', 'origin', remote]);
    git(dir, ['push', '-q', 'origin', 'main']);
    expect((await runCli(['reconcile', '--repo', dir, '--at', NOW, '--yes'])).code).toBe(0);

    const later = await runCli([
      'reconcile',
      '--repo',
      dir,
      '--at',
      '2027-02-01T00:00:00+01:00',
      '--yes',
      '--commit',
    ]);
    expect(later.code).toBe(0);
    expect(later.stdout).toContain('- carol  analytics  readonly  expired 2027-01-31');
    expect(later.stderr).toContain('notice: committed the removal of 1 ended grant file');
    expect(later.stderr).toContain('notice: pushed the expiry commit to origin/main');
    expect(git(remote, ['log', '-1', '--format=%B', 'main']).trim()).toBe(
      'expire: carol from analytics (ended 2027-01-31)',
    );
    expect(existsSync(join(dir, 'grants/analytics/carol.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'grants/github/carol.yaml'))).toBe(true);
    const audit = await runCli([
      'audit',
      '--repo',
      dir,
      '--user',
      'carol',
      '--app',
      'analytics',
      '--format',
      'json',
    ]);
    const json = JSON.parse(audit.stdout) as {
      events: { kind: string; applied?: { reason: string }[] }[];
      warnings: { code: string }[];
    };
    // In real time the run removed carol's access before her end: a run pinned past it, which audit says.
    expect(json.events.map((e) => `${e.kind} ${e.applied?.map((a) => a.reason)}`)).toEqual([
      'granted new-grant',
      'revoked expired',
    ]);
    expect(json.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['pinned-runs', 'commit-date']));
    // Nothing is left to expire, and nothing to change.
    const again = await runCli([
      'reconcile',
      '--repo',
      dir,
      '--at',
      '2027-02-01T00:00:00+01:00',
      '--yes',
      '--commit',
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('committed');
  });

  it('still removes the access when there is no remote, and says so', async () => {
    const dir = exampleRepo();
    const run = await runCli(['reconcile', '--repo', dir, '--at', '2027-09-01', '--yes', '--commit']);
    expect(run.code).toBe(0);
    // carol's github grant stays: GitHub was not observed (no credentials), so her access there may remain.
    expect(run.stderr).toContain('notice: committed the removal of 2 ended grant files');
    expect(run.stderr).toContain(
      'no remote to push the expiry commit to; the access was removed all the same',
    );
    expect(git(dir, ['log', '-1', '--format=%B']).trim()).toBe(
      'expire: 2 grants ended\n\nexpire: carol from analytics (ended 2027-01-31)\nexpire: dave from analytics (ended 2027-08-31)',
    );
  });
});

describe('iden apps', () => {
  it('lists the apps as JSON for a CI matrix', async () => {
    const result = await runCli(['apps', '--repo', packageRoot(), '--format', 'json']);
    expect(JSON.parse(result.stdout)).toEqual(['analytics', 'github', 'salesforce']);
  });
});
