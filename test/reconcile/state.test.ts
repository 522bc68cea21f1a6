import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStateDir } from '../../src/git/state.js';
import { Journal } from '../../src/reconcile/records.js';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

/** A repository with one embedded database app and one grant, committed. */
function repository(): string {
  const dir = writeTree({
    '.gitignore': '.iden/\n',
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': 'people:\n  - { id: ana, name: Ana, email: ana@example.com }\n',
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: db_read }\n',
    'grants/db/ana.yaml': 'user: ana\napp: db\npermissions: [read]\n',
  });
  commitAll(dir, 'access');
  seedEmbedded(dir, 'db');
  return dir;
}

describe('what a run keeps, and where', () => {
  it('keeps the record of a run of 2,000 changes, larger than a command-line argument may be', async () => {
    const dir = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const journal = new Journal(dir, await runStateDir(dir, 'journal'), {
      run: '2026-11-27T12:00:00.000Z',
      at: '2026-11-27T12:00:00.000Z',
      command: 'apply',
      commit: head,
      by: { host: 'test' },
    });
    journal.append(
      Array.from({ length: 2000 }, (_, i) => ({
        action: 'grant' as const,
        app: 'db',
        user: `person-${String(i).padStart(4, '0')}`,
        account: `person-${String(i).padStart(4, '0')}`,
        entitlement: 'read',
        reason: 'new-grant' as const,
        outcome: 'granted' as const,
      })),
    );
    const result = await journal.finish({ push: false });
    expect(result?.kept).toBe(true);
    const note = git(dir, ['notes', '--ref=iden', 'show', head]).trim();
    expect(note.length).toBeGreaterThan(200_000);
    expect(JSON.parse(note).changes).toHaveLength(2000);
    // The journal went with the record: the next run finds nothing to recover.
    expect(readdirSync(await runStateDir(dir, 'journal'))).toEqual([]);
    const next = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push']);
    expect(next.stderr).not.toContain('journal');
  });

  it('never takes a committed .iden/ for its own: no lock, no journal minted into a record; the run refuses and says why', async () => {
    const dir = repository();
    // Someone commits a lock and a journal that claims a grant was applied.
    mkdirSync(join(dir, '.iden', 'journal'), { recursive: true });
    writeFileSync(
      join(dir, '.iden', 'lock'),
      JSON.stringify({ pid: 1, host: 'elsewhere', started: 'x', command: 'x' }),
    );
    writeFileSync(
      join(dir, '.iden', 'journal', 'x.jsonl'),
      `${JSON.stringify({ run: '2026-11-01T00:00:00.000Z', at: '2026-11-01T00:00:00.000Z', command: 'apply', commit: 'x', by: {} })}\n${JSON.stringify({ action: 'grant', app: 'db', user: 'mallory', account: 'mallory', entitlement: 'read', reason: 'new-grant', outcome: 'granted' })}\n`,
    );
    git(dir, ['add', '-f', '.iden/lock', '.iden/journal/x.jsonl']);
    git(dir, ['commit', '-q', '-m', 'state']);
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push', '--lock-timeout', '1s'], {
      env: { IDEN_RECORD_KEY: 'k' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "2 files are committed under .iden/ (.iden/journal/x.jsonl, .iden/lock): iden's local state never comes from the repository",
    );
    expect(git(dir, ['notes', '--ref=iden', 'list']).trim()).toBe('');
    const validate = await runCli(['validate', '--repo', dir]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain('.iden/lock:1:1 error tracked-state: .iden/lock is committed');
    // Once removed from git, the run goes ahead; the journal there is not read as a run's.
    git(dir, ['rm', '-q', '-r', '--cached', '.iden']);
    git(dir, ['commit', '-q', '-m', 'no state in git']);
    const clean = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], {
      env: { IDEN_RECORD_KEY: 'k' },
    });
    expect(clean.code).toBe(0);
    expect(git(dir, ['notes', '--ref=iden', 'show', 'HEAD'])).not.toContain('mallory');
  });

  it('finds the repository root from a subfolder, as git does, and keeps its state there', async () => {
    const dir = repository();
    const run = await runCli(['apply', '--yes', '--no-push'], { cwd: join(dir, 'grants', 'db') });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Applied: 1 granted');
    expect(existsSync(join(dir, 'grants', 'db', '.iden'))).toBe(false);
    const plan = await runCli(['plan', '--format', 'json'], { cwd: join(dir, 'grants') });
    expect(JSON.parse(plan.stdout).changes).toEqual([]);
    expect((await runCli(['validate'], { cwd: join(dir, 'grants', 'db') })).code).toBe(0);
  });
});
