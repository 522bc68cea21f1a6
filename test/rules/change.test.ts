import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { changeRepo } from './fixture.js';

/** iden change under the access rules iden grant applies: eligibility of what is added, the cap of any new end, approvals and reviewers. */

const server = new GithubPullServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

function repository(): { dir: string; remote: string } {
  const { dir, root } = changeRepo();
  const remote = `${root}/remote.git`;
  git(root, ['init', '-q', '--bare', remote]);
  git(dir, ['remote', 'add', 'origin', remote]);
  git(dir, ['push', '-q', 'origin', 'main']);
  return { dir, remote };
}

const change = (dir: string, ...args: string[]) =>
  runCli(['change', '--repo', dir, '--app', 'payments', '--no-pr', '--yes', '--as', 'bob-o', ...args]);

describe('iden change under access rules, scripted', () => {
  it('refuses an end past maxDuration, no end under it, and an entitlement the person may not hold', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const long = await change(dir, '--user', 'dave', '--end', '2027-06-01');
    expect(long.code).toBe(1);
    expect(long.stderr).toContain(
      'end 2027-06-01 is more than P90D after now (2026-11-27T13:00:00+01:00; no start), which the rule of payments:read allows at most: the longest end allowed is 2027-02-25T13:00:00+01:00',
    );
    const endless = await change(dir, '--user', 'dave', '--no-end');
    expect(endless.code).toBe(1);
    expect(endless.stderr).toContain(
      'allows at most P90D: add an end, at the latest 2027-02-25T13:00:00+01:00',
    );
    // The payments owners' approve is for dave only: frank may keep read, not add approve.
    const added = await change(dir, '--user', 'frank', '--add-permission', 'approve');
    expect(added.code).toBe(1);
    expect(added.stderr).toContain(
      'rule-not-eligible: frank may not hold this under the payments owners: it is for dave',
    );
    // A duration counts from today, within the cap: accepted.
    const ok = await change(dir, '--user', 'frank', '--end', '30d');
    expect(ok.code, ok.stderr).toBe(0);
    expect(git(dir, ['show', 'change/payments/frank:grants/payments/frank.yaml'])).toContain(
      'end: 2026-12-27\n',
    );
    expect(git(dir, ['branch', '--format=%(refname:short)']).trim().split('\n').sort()).toEqual([
      'change/payments/frank',
      'main',
    ]);
    expect(git(dir, ['rev-parse', 'main']).trim()).toBe(head);
  });

  it('says how many approvals the change needs and from whom, marks it privileged, and requests those reviewers', async () => {
    const { dir, remote } = repository();
    server.remote = remote;
    server.tokens.set('erin-token', { login: 'erin-b', kind: 'user' });
    const env = { GITHUB_TOKEN: 'erin-token', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    const out = await runCli(
      [
        ...['change', '--repo', dir, '--app', 'payments', '--user', 'dave', '--add-permission', 'approve'],
        ...['--end', '14d', '--reason', 'FIN-12', '--yes', '--format', 'json'],
      ],
      { env },
    );
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as {
      classification: string;
      approvers: string[];
      privileged?: boolean;
      pr: { number: number };
    };
    expect(result).toMatchObject({
      classification: 'change',
      approvers: ['alice', 'carol', 'frank'],
      privileged: true,
    });
    const line =
      'grants/payments/dave.yaml: a change to existing access: needs 1 approval under the rule of payments:read, from carol or alice; 2 under the payments owners, from frank and carol (privileged access';
    expect(out.stderr).toContain(line);
    expect(out.stderr).toContain('Requested reviews from Carol-N, frank-r.');
    const pull = server.pulls.get(result.pr.number)!;
    expect(pull.requested).toEqual(['Carol-N', 'frank-r']);
    expect(pull.body).toContain('2 under the payments owners, from frank and carol \\(privileged access');
    expect(git(dir, ['show', 'change/payments/dave:grants/payments/dave.yaml'])).toBe(
      'user: dave\napp: payments\npermissions: [read, approve]\nend: 2026-12-11\nreason: FIN-12\n',
    );
    expect(server.errors).toEqual([]);
  });
});
