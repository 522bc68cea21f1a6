import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectors } from '../../src/connectors/catalog.js';
import type { Change } from '../../src/connectors/types.js';
import { ManualClock } from '../../src/model/clock.js';
import type { AppFile } from '../../src/model/repo.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { DEFAULT_RETRY, withRetry } from '../../src/reconcile/retry.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { GithubOrgServer } from '../helpers/github-org-server.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: whatever GitHub asks, the retry layer waits a few milliseconds. */
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const SECONDARY = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
/** The message of GitHub's older secondary limit: no "rate limit" in it. */
const ABUSE =
  'You have triggered an abuse detection mechanism. Please wait a few minutes before you try again.';

/** An organisation: owner owns it; alice, bob and carol are members; the engineering team is empty. */
async function org(options: ConstructorParameters<typeof GithubOrgServer>[1] = {}) {
  const server = new GithubOrgServer('acme', options);
  for (const u of ['owner', 'alice-m', 'bob-o', 'carol-n', 'dan-d']) server.users.add(u);
  server.members.set('owner', 'admin');
  for (const u of ['alice-m', 'bob-o', 'carol-n', 'dan-d']) server.members.set(u, 'member');
  server.teams.set('engineering', new Map());
  await server.start();
  return server;
}

const APP = (extra = '') => `name: GitHub
connector: { type: github, org: acme, writeIntervalMs: 0${extra} }
entitlements:
  - { id: eng, kind: group, team: engineering }
licenses:
  - { id: basic, seats: 10 }
  - { id: copilot, seats: 5, copilot: true }
`;

function accessRepo(grants: Record<string, string>, extra = '') {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice, email: alice@example.com, accounts: { gh: alice-m } }
  - { id: bob, name: Bob, email: bob@example.com, accounts: { gh: bob-o } }
  - { id: carol, name: Carol, email: carol@example.com, accounts: { gh: carol-n } }
  - { id: dan, name: Dan, email: dan@example.com, accounts: { gh: dan-d } }
`,
    'grants/gh/_app.yaml': APP(extra),
    ...Object.fromEntries(Object.entries(grants).map(([user, text]) => [`grants/gh/${user}.yaml`, text])),
  });
  commitAll(dir, 'access');
  return dir;
}

const grant = (user: string, license: string, permissions = '[eng]') =>
  `user: ${user}\napp: gh\npermissions: ${permissions}\nlicense: ${license}\n`;
const env = (server: GithubOrgServer) => ({ GITHUB_TOKEN: 'test-token', GITHUB_API_URL: server.url });
const brief = (p: Plan) => p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license}`);

async function plan(dir: string, server: GithubOrgServer): Promise<Plan> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
    env: env(server),
    retry: FAST,
  });
  return JSON.parse(result.stdout) as Plan;
}

function apply(dir: string, server: GithubOrgServer, retry = FAST) {
  return runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env: env(server), retry });
}

const change = (user: string, account: string, target: Partial<Change>): Change => ({
  app: 'gh',
  user,
  account,
  action: 'grant',
  reason: 'new-grant',
  ...target,
});

describe('github connector under faults', () => {
  it('asks the retry layer for the waits GitHub gives: none of its own for 502s, Retry-After on any status, the reset only when the primary limit is spent', async () => {
    // The server keeps the system's time, as GitHub keeps its own: its resets are an hour ahead of it, whatever clock reads them.
    const server = await org();
    const clock = new ManualClock(TEST_NOW);
    try {
      const session = await connectors.github!.open(
        { id: 'gh', file: parse(APP()) as AppFile },
        { repoRoot: '.', env: env(server), lockTimeoutMs: 0, clock },
      );
      // What the one retry layer is asked to wait (random 0: no backoff of its own).
      let waits: number[] = [];
      const retry = <T>(run: () => Promise<T>) =>
        withRetry(run, {
          retry: DEFAULT_RETRY,
          random: () => 0,
          sleep: async (ms) => {
            waits.push(ms);
          },
        });
      // A burst of 502s from GitHub's edge, with its usual headers: the reset an hour ahead, 4999 requests left.
      server.fail({ on: 'read', times: 3, status: 502 });
      expect(await retry(() => session.observe())).toContainEqual({ account: 'owner', license: 'basic' });
      expect(waits).toEqual([0, 0, 0]);

      const team = (user: string, account: string) =>
        session.steps([change(user, account, { entitlement: 'eng' })])[0]!;
      const faults = [
        // The legacy abuse-detection 403: retry-after set, no "rate limit" in the message.
        { status: 403, headers: { 'retry-after': '60' }, message: ABUSE, wait: 60_000 },
        // A 429 whose Retry-After is an HTTP date, 30 s after the run's clock.
        {
          status: 429,
          headers: () => ({ 'retry-after': new Date(clock.now() + 30_000).toUTCString() }),
          message: SECONDARY,
          wait: 30_000,
        },
        // A secondary limit that names no wait: GitHub's advised minute.
        { status: 403, headers: {}, message: SECONDARY, wait: 60_000 },
        // The primary limit spent: its reset, 90 s after the run's clock.
        {
          status: 403,
          headers: () => ({
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.floor((clock.now() + 90_000) / 1000)),
          }),
          message: 'API rate limit exceeded for installation ID 456.',
          wait: 90_000,
        },
        // A 503 with Retry-After in seconds.
        { status: 503, headers: { 'retry-after': '5' }, message: 'Service Unavailable', wait: 5_000 },
      ];
      for (const [i, { wait, ...fault }] of faults.entries()) {
        waits = [];
        server.fail({ on: 'write', times: 1, ...fault });
        const [result] = await retry(() =>
          team(`p${i}`, ['alice-m', 'bob-o', 'carol-n', 'dan-d', 'owner'][i]!).run(),
        );
        expect(result!.outcome).toBe('granted');
        expect(waits).toEqual([wait]);
      }
      // A refusal that is no rate limit, with the same headers, fails at once.
      waits = [];
      server.fail({ on: 'write', times: 1, status: 403, message: 'Must have admin rights to Repository.' });
      await expect(retry(() => team('p9', 'alice-m').run())).rejects.toThrow(
        /GitHub answered 403 to PUT \/orgs\/acme\/teams\/engineering\/memberships\/alice-m: Must have admin rights/,
      );
      expect(waits).toEqual([]);
      expect(server.unusedFaults).toBe(0);
      await session.close();
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('completes an apply through 502 bursts, the legacy abuse 403 and a 429 with an HTTP-date Retry-After, each change once', async () => {
    // The server's time is the run's (runCli stands at TEST_NOW): its HTTP date is read against it.
    const server = await org({ now: () => TEST_NOW });
    try {
      const dir = accessRepo({
        alice: grant('alice', 'basic'),
        bob: grant('bob', 'basic'),
        carol: grant('carol', 'copilot'),
        dan: grant('dan', 'copilot'),
      });
      server.fail({ on: 'read', times: 4, status: 502 });
      server.fail({ on: 'write', times: 2, status: 502 });
      server.fail({ on: 'write', times: 1, status: 403, headers: { 'retry-after': '60' }, message: ABUSE });
      server.fail({
        on: 'write',
        times: 1,
        status: 429,
        headers: (now) => ({ 'retry-after': new Date(now + 30_000).toUTCString() }),
        message: SECONDARY,
      });
      const run = await apply(dir, server);
      expect(run.stdout).toContain('Applied: 6 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(run.code).toBe(0);
      expect(server.unusedFaults).toBe(0);
      expect([...server.teams.get('engineering')!.keys()].sort()).toEqual([
        'alice-m',
        'bob-o',
        'carol-n',
        'dan-d',
      ]);
      expect([...server.copilot].sort()).toEqual(['carol-n', 'dan-d']);
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('ends a run whose write is never answered: that change fails with why, a dropped connection is tried again, the rest is applied', async () => {
    const server = await org();
    try {
      const dir = accessRepo(
        {
          alice: grant('alice', 'basic'),
          bob: grant('bob', 'basic'),
          carol: grant('carol', 'copilot'),
        },
        ', timeoutMs: 1000',
      );
      // The first read is never answered (tried again), nor is any write for bob; carol's seat loses its connection once.
      server.fail({ on: 'read', times: 1, answer: 'hang' });
      server.fail({ route: /^PUT .*\/bob-o$/, times: Number.POSITIVE_INFINITY, answer: 'hang' });
      server.fail({ route: /^POST .*\/copilot\//, times: 1, answer: 'drop' });
      const run = await apply(dir, server, { attempts: 2, baseMs: 1, maxMs: 2 });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 1 failed.');
      expect(run.stdout).toMatch(
        /failed\s+bob\s+gh\s+eng\s+adding bob-o to team engineering: PUT \/orgs\/acme\/teams\/engineering\/memberships\/bob-o: no answer within 1 s \(after 2 attempts\)/,
      );
      expect([...server.teams.get('engineering')!.keys()].sort()).toEqual(['alice-m', 'carol-n']);
      expect([...server.copilot]).toEqual(['carol-n']);
      expect(server.requests.filter((r) => r.endsWith('/bob-o'))).toHaveLength(2);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('github connector: Copilot seats pending cancellation', () => {
  it('takes a seat pending cancellation as not held: not cancelled again, assigned again by a grant, restored when cancelled by hand', async () => {
    const server = await org();
    try {
      server.copilot.add('alice-m');
      server.teams.get('engineering')!.set('alice-m', 'member');
      const dir = accessRepo({ alice: grant('alice', 'copilot') });
      expect(brief(await plan(dir, server))).toEqual([]);

      // alice moves to the organisation seat: her Copilot seat is cancelled, pending to the end of the cycle.
      writeTree({ 'grants/gh/alice.yaml': grant('alice', 'basic') }, dir);
      commitAll(dir, 'alice no longer uses Copilot');
      // She holds no organisation seat while she has the Copilot one: it is granted, and her membership stays.
      expect(brief(await plan(dir, server))).toEqual(['grant alice basic', 'revoke alice copilot']);
      expect((await apply(dir, server)).code).toBe(0);
      expect(server.copilotCancelling.get('alice-m')).toBe('2026-12-01');
      // The next runs have nothing to do: the cancellation is not sent again every run until the cycle ends.
      const cancels = server.requests.filter((r) => r.startsWith('DELETE')).length;
      expect(brief(await plan(dir, server))).toEqual([]);
      expect((await apply(dir, server)).code).toBe(0);
      expect(server.requests.filter((r) => r.startsWith('DELETE'))).toHaveLength(cancels);

      // Back to Copilot before the cycle ends: the seat is assigned again, which withdraws the cancellation.
      writeTree({ 'grants/gh/alice.yaml': grant('alice', 'copilot') }, dir);
      commitAll(dir, 'alice uses Copilot again');
      // Without a Copilot seat she held the organisation seat: it goes, her membership stays.
      expect(brief(await plan(dir, server))).toEqual(['revoke alice basic', 'grant alice copilot']);
      expect((await apply(dir, server)).code).toBe(0);
      expect([...server.copilot]).toEqual(['alice-m']);
      expect(server.copilotCancelling.size).toBe(0);
      expect(server.members.get('alice-m')).toBe('member');
      expect(brief(await plan(dir, server))).toEqual([]);

      // Someone cancels her seat in GitHub's settings while her grant still gives it: the next run restores it.
      server.cancelSeat('alice-m');
      expect(brief(await plan(dir, server))).toEqual(['revoke alice basic', 'grant alice copilot']);
      expect((await apply(dir, server)).code).toBe(0);
      expect([...server.copilot]).toEqual(['alice-m']);
      expect(server.copilotCancelling.size).toBe(0);
      expect(server.members.get('alice-m')).toBe('member');
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('github connector: retired mappings that can no longer be observed', () => {
  it('leaves out a retired team that no longer exists, with a notice; a declared one that does not exist skips the app, saying what to fix', async () => {
    const server = await org();
    try {
      server.teams.set('design', new Map([['bob-o', 'member']]));
      const dir = accessRepo({ alice: grant('alice', 'basic', '[eng, design]') });
      writeTree(
        {
          'grants/gh/_app.yaml': APP().replace(
            'entitlements:\n',
            'entitlements:\n  - { id: design, kind: group, team: design }\n',
          ),
        },
        dir,
      );
      commitAll(dir, 'the design team');
      expect((await apply(dir, server)).code).toBe(0);
      expect(server.teams.get('design')!.has('alice-m')).toBe(true);

      // The design entitlement is removed from _app.yaml and the team deleted in GitHub.
      writeTree({ 'grants/gh/_app.yaml': APP(), 'grants/gh/alice.yaml': grant('alice', 'basic') }, dir);
      commitAll(dir, 'no more design team');
      server.teams.delete('design');
      const result = await runCli(['plan', '--repo', dir, '--at', NOW], { env: env(server), retry: FAST });
      expect(result.stdout).toContain('Plan: 0 to grant, 0 to revoke, 0 held, 4 drift kept, 0 apps skipped.');
      expect(result.stderr).toContain(
        "notice: gh: team design no longer exists (GET /orgs/acme/teams/design/members answered 404): 'design', removed from _app.yaml, is left out",
      );

      // A team _app.yaml still declares, and which does not exist, cannot be observed: the app is skipped.
      server.teams.delete('engineering');
      const p = await plan(dir, server);
      expect(p.skipped[0]!.reason).toBe(
        "cannot observe: cannot read GitHub organisation acme: team engineering does not exist (GET /orgs/acme/teams/engineering/members answered 404): create it in acme, fix the team slug in _app.yaml, or give iden's token access to it",
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
