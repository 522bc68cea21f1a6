import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';

/** The example, committed; then heidi leaves: her grant and her entry go in a second commit. */
function example(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-filters-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'example', '2026-11-01T10:00:00Z');
  rmSync(join(dir, 'grants/salesforce/heidi.yaml'));
  const people = readFileSync(join(dir, 'grants/_people.yaml'), 'utf8');
  writeFileSync(join(dir, 'grants/_people.yaml'), people.replace(/ {2}- id: heidi\n(?: {4}.*\n)*/, ''));
  commitAll(dir, 'offboard heidi', '2026-11-10T10:00:00Z');
  return dir;
}

describe('every --user and --app filter', () => {
  it('exits 2 naming an unknown value, with a did-you-mean, in access, upcoming and audit', async () => {
    const dir = example();
    const cases: [string[], string][] = [
      [
        ['access', '--user', 'nobody'],
        '--user nobody: no person of that id or email in grants/_people.yaml\n',
      ],
      [
        ['access', '--user', 'alcie'],
        '--user alcie: no person of that id or email in grants/_people.yaml (did you mean "alice"?)\n',
      ],
      [
        ['access', '--app', 'githb'],
        '--app githb: no app of that id in grants/ (did you mean "github"? apps: analytics, github, salesforce)\n',
      ],
      [
        ['upcoming', '--user', 'bob@exmple.com'],
        '--user bob@exmple.com: no person of that id or email in grants/_people.yaml (did you mean "bob@example.com"?)\n',
      ],
      [
        ['audit', '--user', 'nobody'],
        '--user nobody: no person of that id or email in grants/_people.yaml or the history of grants/\n',
      ],
      [
        ['audit', '--app', 'nope'],
        '--app nope: no app of that id in grants/ or its history (apps: analytics, github, salesforce)\n',
      ],
      [
        ['audit', '--as-of', '2026-11-27', '--user', 'grcae'],
        '--user grcae: no person of that id or email in grants/_people.yaml or the history of grants/ (did you mean "grace"?)\n',
      ],
      [
        ['audit', '--review', '--app', 'salesforc'],
        '--app salesforc: no app of that id in grants/ or its history (did you mean "salesforce"? apps: analytics, github, salesforce)\n',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...args, '--repo', dir]);
      expect({ args, code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({
        args,
        code: 2,
        stderr: `iden: ${message}`,
        stdout: '',
      });
    }
  });

  it('resolves an id or an email in any case the same way everywhere, and people who left in the audit', async () => {
    const dir = example();
    const json = async (args: string[]) => {
      const result = await runCli([...args, '--repo', dir, '--format', 'json']);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return JSON.parse(result.stdout);
    };
    const byEmail = await json(['access', '--user', 'ALICE@Example.com', '--at', '2026-11-27']);
    const byId = await json(['access', '--user', 'alice', '--at', '2026-11-27']);
    expect(byEmail).toEqual(byId);
    expect(byId.access.map((r: { user: string }) => r.user)).toEqual(['alice', 'alice']);
    const audit = await json(['audit', '--user', 'Alice@example.com']);
    expect(audit.events.length).toBeGreaterThan(0);
    expect(new Set(audit.events.map((e: { user: string }) => e.user))).toEqual(new Set(['alice']));
    expect(await json(['audit', '--user', 'ALICE'])).toEqual(audit);
    const upcoming = await json([
      'upcoming',
      '--user',
      'ERIN@example.com',
      '--at',
      '2027-01-01',
      '--within',
      '1w',
    ]);
    expect(upcoming.events.map((e: { user: string }) => e.user)).toEqual(['erin']);
    // heidi is no longer in _people.yaml, but the history knows her.
    const left = await json(['audit', '--user', 'heidi', '--app', 'SALESFORCE']);
    expect(left.events.map((e: { kind: string; app: string }) => `${e.kind} ${e.app}`)).toEqual([
      'granted salesforce',
      'revoked salesforce',
    ]);
  });
});

describe('iden access as text', () => {
  it('is cut to the width of a terminal, and never when piped', async () => {
    const dir = example();
    const args = ['access', '--repo', dir, '--at', '2026-11-27'];
    const piped = await runCli(args, { env: { COLUMNS: '40' } });
    expect(piped.code).toBe(0);
    expect(piped.stdout).not.toContain('…');
    expect(Math.max(...piped.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(40);
    const terminal = await runCli(args, { env: { COLUMNS: '40' }, answer: false });
    const rows = terminal.stdout.split('\n').filter((l) => l.includes('analytics'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(40);
  });
});
