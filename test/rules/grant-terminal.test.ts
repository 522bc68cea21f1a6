import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { onTerminal } from '../helpers/pty.js';
import { writeTree } from '../helpers/repo.js';
import { rulesRepo } from './fixture.js';

/** iden grant on a real pseudo-terminal under access rules, opening its pull request on the loopback GitHub. */

const server = new GithubPullServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

// The built CLI, its clock at TEST_NOW (2026-11-27T12:00:00Z).
// A terminal 160 columns wide: the lines of a choice are not wrapped.
const iden = `stty cols 160 rows 50; IDEN_TEST_NOW=${new Date(TEST_NOW).toISOString()} ${process.execPath} ${join(packageRoot(), 'test/helpers/bin-at.mjs')}`;
const DOWN = '\x1b[B';
const BACK = '\x7f';

/** The rules repository with a bare remote standing for GitHub's copy, checked out on main. */
function repository(): { dir: string; remote: string } {
  const root = mkdtempSync(join(tmpdir(), 'iden-rules-grant-'));
  const dir = writeTree({ ...rulesRepo, '.gitignore': '.iden/\n' }, join(root, 'work'));
  commitAll(dir, 'access with rules');
  const remote = join(root, 'remote.git');
  git(root, ['init', '-q', '--bare', remote]);
  git(dir, ['remote', 'add', 'origin', remote]);
  git(dir, ['push', '-q', 'origin', 'main']);
  git(dir, ['config', 'user.name', 'Erin Blake']);
  git(dir, ['config', 'user.email', 'erin@example.com']);
  return { dir, remote };
}

describe('iden grant on a terminal, under access rules', () => {
  it('offers only eligible people and durations, says the approvals needed and requests those reviewers', async () => {
    const { dir, remote } = repository();
    server.remote = remote;
    server.tokens.set('erin-token', { login: 'erin-b', kind: 'user' });
    const env = { GITHUB_TOKEN: 'erin-token', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    const session = await onTerminal(
      `${iden} grant --app payments`,
      [
        // An attribute is searched: erin is engineering, and the rule of payments is for finance.
        { see: /search by name, email or id\)/, type: 'engineering' },
        {
          see: /id\) engineering\r\n- Erin Blake <erin@example\.com> {2}department: engineering · manager: carol \(not eligible: for department finance\)/,
          type: BACK.repeat(11) + 'finance',
        },
        {
          see: /❯ Dave Ito <dave@example\.com> {2}department: finance · manager: carol\r\n[\s\S]*Frank Ruiz/,
          type: '\r',
        },
        { see: /Which groups, roles or permissions\?[\s\S]*read/, type: `${DOWN} \r` },
        { see: /When\?[\s\S]*Custom/, type: '\r' },
        {
          see: /Until when\? \(the payments owners allows at most P90D\)[\s\S]*Another end/,
          type: `${DOWN.repeat(6)}\r`,
        },
        { see: /at the latest 2027-02-25T13:00:00\+01:00\)/, type: '2027-03-01\r' },
        { see: /the longest end allowed is 2027-02-25T13:00:00\+01:00/, type: `${BACK.repeat(10)}14d\r` },
        { see: /Reason/, type: 'FIN-9 month end\r' },
        { see: /Commit it and open the pull request\?/, type: '\r' },
      ],
      { cwd: dir, env },
    );
    expect(session.reached, session.screen).toBe(10);
    expect(session.code, session.screen).toBe(0);
    expect(session.screen).toContain(
      '4 people are not eligible for payments under its rules and cannot be picked.',
    );
    expect(session.screen).toContain(
      'Search by attribute too: typing finance finds people whose department is finance.',
    );
    // No end, and durations past the cap, are not offered.
    const until = session.screen.slice(
      session.screen.indexOf('Until when?'),
      session.screen.indexOf('Another end'),
    );
    expect(until).toContain('90 days');
    expect(until).not.toMatch(/180 days|1 year|No end/);
    expect(session.screen).toContain(
      'grants/payments/dave.yaml: access request: needs 2 approvals under the payments owners, from frank and carol',
    );
    expect(session.screen).toContain('Requested reviews from Carol-N, frank-r.');
    expect(git(dir, ['show', 'grant/payments/dave:grants/payments/dave.yaml'])).toBe(
      '# yaml-language-server: $schema=../../schemas/grant.schema.json\nuser: dave\napp: payments\npermissions: [approve]\nend: 2026-12-11\nreason: FIN-9 month end\n',
    );
    const pull = [...server.pulls.values()].find((p) => p.headRef === 'grant/payments/dave')!;
    expect(pull.requested).toEqual(['Carol-N', 'frank-r']);
    expect(pull.body).toContain('needs 2 approvals under the payments owners, from frank and carol');
    expect(server.errors).toEqual([]);
  }, 30_000);

  it('from a person: an app they may hold nothing in cannot be picked', async () => {
    const { dir } = repository();
    const session = await onTerminal(
      `${iden} grant --user erin --no-pr --as bob-o`,
      [{ see: /Which app should erin get access to\?[\s\S]*Payments/, type: '\x03' }],
      { cwd: dir },
    );
    expect(session.code, session.screen).toBe(1);
    expect(session.screen).toMatch(/- Payments \(payments\) \(not eligible: for department finance\)/);
  }, 30_000);

  it('scripted: a request under the app’s rule asks its approvers, not the Super Admins; an end past the cap is refused', async () => {
    const { dir, remote } = repository();
    server.remote = remote;
    server.tokens.set('erin-token', { login: 'erin-b', kind: 'user' });
    const env = { GITHUB_TOKEN: 'erin-token', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    const args = ['grant', '--repo', dir, '--app', 'payments', '--user', 'frank', '--permission', 'submit'];
    const long = await runCli([...args, '--end', '2027-06-01', '--yes'], { env });
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('the longest end allowed is 2027-02-25T13:00:00+01:00');
    const out = await runCli([...args, '--end', '30d', '--yes', '--format', 'json'], { env });
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { approvers: string[]; pr: { number: number } };
    expect(result.approvers).toEqual(['alice', 'carol']);
    expect(out.stderr).toContain(
      'grants/payments/frank.yaml: access request: needs 1 approval under the rule of payments, from carol or alice',
    );
    expect(server.pulls.get(result.pr.number)!.requested).toEqual(['Carol-N']);
    expect(server.errors).toEqual([]);
  });
});
