// Durations are durations: an end given as 90d or 8h is written relative to
// the access's real start, never as an instant fixed when the command ran.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { baseRepo, writeTree } from '../helpers/repo.js';

/** The base repository (Europe/Berlin, the test clock at 2026-11-27T12:00Z) with carol's grant that started. */
function repository(): string {
  const dir = writeTree(
    {
      ...baseRepo,
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\nstart: 2026-11-01\n',
    },
    join(mkdtempSync(join(tmpdir(), 'iden-durations-')), 'work'),
  );
  commitAll(dir, 'the access repository');
  git(dir, ['config', 'user.name', 'Bob Okafor']);
  git(dir, ['config', 'user.email', 'bob@example.com']);
  return dir;
}

const written = (dir: string, branch: string, file: string) =>
  parse(git(dir, ['show', `${branch}:${file}`])) as Record<string, unknown>;

describe('an end given as a duration', () => {
  it('from when it is applied: whole days are a date counted from today in the settings zone', async () => {
    const dir = repository();
    const r = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'db',
        '--user',
        'bob',
        '--permission',
        'readonly',
        '--end',
        '90d',
        '--no-pr',
        '--yes',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    // 2026-11-27 in Europe/Berlin, plus 90 days.
    expect(written(dir, 'grant/db/bob', 'grants/db/bob.yaml').end).toBe('2027-02-25');
    expect(r.stdout).toContain('until: 2027-02-25 (Europe/Berlin)');
  });

  it('from a start: days from a date, hours from a date-time to the minute', async () => {
    const dir = repository();
    const days = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'db',
        '--user',
        'bob',
        '--permission',
        'readonly',
        '--start',
        '2027-01-10',
        '--end',
        '2w',
        '--no-pr',
        '--yes',
      ],
      { cwd: dir },
    );
    expect(days.code, days.stderr).toBe(0);
    expect(written(dir, 'grant/db/bob', 'grants/db/bob.yaml')).toMatchObject({
      start: '2027-01-10',
      end: '2027-01-24',
    });
    const other = repository();
    const hours = await runCli(
      [
        'grant',
        '--repo',
        other,
        '--app',
        'db',
        '--user',
        'bob',
        '--permission',
        'readonly',
        '--start',
        '2027-01-10T09:30:00+01:00',
        '--end',
        '8h',
        '--no-pr',
        '--yes',
      ],
      { cwd: other },
    );
    expect(hours.code, hours.stderr).toBe(0);
    expect(written(other, 'grant/db/bob', 'grants/db/bob.yaml').end).toBe('2027-01-10T17:30:00+01:00');
  });

  it('iden change --end 2w on access that has started counts from today', async () => {
    const dir = repository();
    const r = await runCli(
      ['change', '--repo', dir, '--app', 'db', '--user', 'carol', '--end', '2w', '--no-pr', '--yes'],
      {
        cwd: dir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(written(dir, 'change/db/carol', 'grants/db/carol.yaml').end).toBe('2026-12-11');
  });

  it('a date that is no date is said in iden words, once', async () => {
    const dir = repository();
    const r = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'db',
        '--user',
        'bob',
        '--permission',
        'readonly',
        '--end',
        '2027-02-30',
        '--no-pr',
        '--yes',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'iden: --end "2027-02-30" is not a real date: February 2027 has 28 days, so the day runs from 01 to 28, not 30 (a bare date is midnight in Europe/Berlin)\n',
    );
    const zero = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'db',
        '--user',
        'bob',
        '--permission',
        'readonly',
        '--end',
        '0d',
        '--no-pr',
        '--yes',
      ],
      { cwd: dir },
    );
    expect(zero.code).toBe(2);
    expect(git(dir, ['branch', '--list', 'grant/*'])).toBe('');
  });
});
