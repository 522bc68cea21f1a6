import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { GithubOrgServer } from '../helpers/github-org-server.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: a Retry-After of a second is waited a few milliseconds. */
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };

/** An organisation: owner is its only owner; alice and carol are members; carol is in engineering. */
async function org(options: ConstructorParameters<typeof GithubOrgServer>[1] = {}) {
  const server = new GithubOrgServer('acme', options);
  for (const u of ['owner', 'alice-m', 'bob-o', 'carol-n', 'mallory']) server.users.add(u);
  server.members.set('owner', 'admin');
  server.members.set('alice-m', 'member');
  server.members.set('carol-n', 'member');
  server.teams.set('engineering', new Map([['carol-n', 'member']]));
  server.repos.set('platform', new Map());
  await server.start();
  return server;
}

function accessRepo(extra: Record<string, string> = {}, app = '') {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice, email: alice@example.com, accounts: { gh: Alice-M } }
  - { id: bob, name: Bob, email: bob@example.com, accounts: { gh: bob-o } }
  - { id: carol, name: Carol, email: carol@example.com, accounts: { gh: carol-n } }
  - { id: zed, name: Zed, email: zed@example.com, accounts: { gh: ghost-user } }
  - { id: owner, name: Owner, email: owner@example.com, accounts: { gh: owner } }
`,
    'grants/gh/_app.yaml': `name: GitHub
connector: { type: github, org: acme, writeIntervalMs: 0 }
entitlements:
  - { id: eng, kind: group, team: engineering }
  - { id: plat-push, kind: permission, repo: platform, permission: push }
  - { id: owners, kind: role, orgRole: admin }
licenses:
  - { id: basic, seats: 10 }
  - { id: copilot, seats: 5, copilot: true }
${app}`,
    'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [eng, plat-push]\nlicense: copilot\n',
    'grants/gh/bob.yaml': 'user: bob\napp: gh\npermissions: [eng]\nlicense: basic\n',
    'grants/gh/carol.yaml': 'user: carol\napp: gh\npermissions: [eng]\nlicense: basic\n',
    'grants/gh/owner.yaml': 'user: owner\napp: gh\npermissions: [owners]\nlicense: basic\n',
    ...extra,
  });
  commitAll(dir, 'access');
  return dir;
}

const env = (server: GithubOrgServer) => ({
  GITHUB_TOKEN: 'test-token',
  GITHUB_API_URL: server.url,
});
const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

async function plan(dir: string, server: GithubOrgServer): Promise<Plan> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
    env: env(server),
    retry: FAST,
  });
  return JSON.parse(result.stdout) as Plan;
}

describe('github connector through the CLI, against a GitHub test server', () => {
  it('plans and applies teams, repository access and Copilot seats; invitations are in progress; a second plan is empty', async () => {
    const server = await org();
    try {
      const dir = accessRepo({
        'grants/gh/zed.yaml': 'user: zed\napp: gh\npermissions: [eng]\nlicense: basic\n',
      });
      // alice is already a member (holding the organisation seat no grant of hers ever gave: drift, kept).
      const first = await plan(dir, server);
      expect(first.drift.map((d) => `${d.user} ${d.license} ${d.reason}`)).toEqual(['alice basic drift']);
      expect(brief(first)).toEqual([
        'grant alice eng new-grant',
        'grant alice plat-push new-grant',
        'grant alice copilot new-grant',
        'grant bob eng new-grant',
        'grant bob basic new-grant',
        'grant zed eng new-grant',
        'grant zed basic new-grant',
      ]);
      const applied = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(applied.code).toBe(1);
      expect(applied.stdout).toMatch(
        /failed\s+zed\s+gh\s+eng\s+adding ghost-user to team engineering: GitHub answered 422 to PUT \/orgs\/acme\/teams\/engineering\/memberships\/ghost-user/,
      );
      expect(applied.stdout).toContain('Applied: 5 granted, 0 revoked, 0 unchanged, 2 failed.');
      expect(server.members.get('alice-m')).toBe('member');
      expect(server.teams.get('engineering')!.has('alice-m')).toBe(true);
      expect(server.repos.get('platform')!.get('alice-m')).toBe('push');
      expect([...server.copilot]).toEqual(['alice-m']);
      expect(server.invitations.map((i) => `${i.login} ${i.role} ${i.teams.join(',')}`)).toEqual([
        'bob-o direct_member engineering',
      ]);

      // bob's invitation is pending: nothing is sent again; only zed (no such user) is still to do.
      const writes = server.writeCount;
      rmGrant(dir, 'zed');
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.writeCount).toBe(writes);
      server.accept('bob-o');
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reports a failed invitation and sends it again once, then no more', async () => {
    const server = await org();
    try {
      const dir = accessRepo();
      const apply = () =>
        runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
          env: env(server),
          retry: FAST,
        });
      await apply();
      server.expire('bob-o');
      const again = await apply();
      expect(again.stderr).toContain(
        'notice: gh: the invitation to bob-o failed (Invitation expired); it is sent again',
      );
      expect(again.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(server.invitations.map((i) => i.login)).toEqual(['bob-o']);
      server.expire('bob-o');
      const third = await apply();
      expect(third.stderr).toContain(
        'invitations to bob-o failed 2 times (Invitation expired); not sent again',
      );
      expect(third.code).toBe(1);
      expect(server.invitations).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('shows a member added to a managed team by hand as drift, and refuses to remove the last owner', async () => {
    const server = await org();
    try {
      const dir = accessRepo({}, 'prune: true\n');
      const first = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(first.code).toBe(0);
      server.teams.get('engineering')!.set('mallory', 'member');
      const p = await plan(dir, server);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['mallory eng']);
      expect(brief(p)).toEqual(['revoke mallory eng drift']);

      // Taking the owners role from the only owner is refused; the rest goes ahead.
      writeTree({ 'grants/gh/owner.yaml': 'user: owner\napp: gh\npermissions: []\nlicense: basic\n' }, dir);
      commitAll(dir, 'owner gives up the owner role');
      const run = await runCli(
        ['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push', '--allow-mass-removal'],
        { env: env(server), retry: FAST },
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('refused: owner is the last owner of acme');
      expect(server.members.get('owner')).toBe('admin');
      expect(server.teams.get('engineering')!.has('mallory')).toBe(false);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('completes an apply through secondary rate limits, with a bounded number of retries', async () => {
    const server = await org({ secondaryLimitEvery: 3 });
    try {
      const people = Array.from({ length: 12 }, (_, i) => `p${i}`);
      for (const p of people) server.users.add(`${p}-gh`);
      for (const p of people) server.members.set(`${p}-gh`, 'member');
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: ${p}, email: ${p}@example.com, accounts: { gh: ${p}-gh } }\n`).join('')}`,
        'grants/gh/_app.yaml':
          'name: G\nconnector: { type: github, org: acme, writeIntervalMs: 0 }\nentitlements:\n  - { id: eng, kind: group, team: engineering }\n  - { id: plat-push, kind: permission, repo: platform, permission: push }\n',
        ...Object.fromEntries(
          people.map((p) => [`grants/gh/${p}.yaml`, `user: ${p}\napp: gh\npermissions: [eng, plat-push]\n`]),
        ),
      });
      commitAll(dir, 'twelve people');
      const run = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(run.stdout).toContain('Applied: 24 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(run.code).toBe(0);
      // Every third write was refused with a secondary-limit 403 and retried after it: 24 changes, 11 refusals.
      expect(server.writeCount).toBe(35);
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('github connector, reading and mapping', () => {
  it('reads every page of a large team and tells maintainers from members', async () => {
    const server = await org();
    try {
      const people = Array.from({ length: 230 }, (_, i) => `m${String(i).padStart(3, '0')}`);
      const team = server.teams.get('engineering')!;
      for (const p of people) {
        server.users.add(`${p}-gh`);
        server.members.set(`${p}-gh`, 'member');
        team.set(`${p}-gh`, p === 'm000' ? 'maintainer' : 'member');
      }
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: ${p}, email: ${p}@example.com, accounts: { gh: ${p.toUpperCase()}-GH } }\n`).join('')}`,
        'grants/gh/_app.yaml':
          'name: G\nconnector: { type: github, org: acme, writeIntervalMs: 0 }\nentitlements:\n  - { id: eng, kind: group, team: engineering }\n  - { id: eng-lead, kind: group, team: engineering, maintainer: true }\n',
        ...Object.fromEntries(
          people.map((p) => [
            `grants/gh/${p}.yaml`,
            `user: ${p}\napp: gh\npermissions: [${p === 'm001' ? 'eng, eng-lead' : 'eng'}]\n`,
          ]),
        ),
      });
      commitAll(dir, '230 people');
      const p = await plan(dir, server);
      // m000 is a maintainer whose grant gives only membership: drift, kept; m001's gives the maintainer role too.
      expect(brief(p)).toEqual(['grant m001 eng-lead new-grant']);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['carol-n eng', 'm000 eng-lead']);
      expect(server.requests.filter((r) => r === 'GET /orgs/acme/teams/engineering/members')).toHaveLength(
        3 + 1,
      );
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(team.get('m001-gh')).toBe('maintainer');
      expect(team.get('m000-gh')).toBe('maintainer');
      // m001 gives up the maintainer role: demoted to member, still in the team.
      writeTree({ 'grants/gh/m001.yaml': 'user: m001\napp: gh\npermissions: [eng]\n' }, dir);
      commitAll(dir, 'm001 is no longer a lead');
      expect(brief(await plan(dir, server))).toEqual(['revoke m001 eng-lead changed']);
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(team.get('m001-gh')).toBe('member');
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('demotes an owner who loses only the owner role, and removes someone whose grant is deleted from the org', async () => {
    const server = await org();
    try {
      server.members.set('alice-m', 'admin');
      server.copilot.add('alice-m');
      const dir = accessRepo({
        'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [owners, eng]\nlicense: copilot\n',
      });
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(server.members.get('alice-m')).toBe('admin');
      writeTree(
        { 'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [eng]\nlicense: copilot\n' },
        dir,
      );
      commitAll(dir, 'alice is no longer an owner');
      expect(brief(await plan(dir, server))).toEqual(['revoke alice owners changed']);
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(server.members.get('alice-m')).toBe('member');
      expect(server.teams.get('engineering')!.has('alice-m')).toBe(true);

      rmGrant(dir, 'alice');
      expect(brief(await plan(dir, server))).toEqual([
        'revoke alice eng removed',
        'revoke alice copilot removed',
      ]);
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(server.teams.get('engineering')!.has('alice-m')).toBe(false);
      expect(server.copilot.has('alice-m')).toBe(false);
      // Without a Copilot seat she now holds the organisation seat, which the next run takes: she leaves the org.
      expect(brief(await plan(dir, server))).toEqual(['revoke alice basic removed']);
      await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(server.members.has('alice-m')).toBe(false);
      expect(brief(await plan(dir, server))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('makes a 404 for a login terminal for that change, and rate limits and server errors transient', async () => {
    const { translate } = await import('../../src/connectors/github/index.js');
    const { RequestError } = await import('@octokit/request-error');
    const { TerminalError, TransientError } = await import('../../src/connectors/types.js');
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      new RequestError(message, status, {
        request: { method: 'PUT', url: 'https://api.github.com/x', headers: {} },
        response: { status, url: 'https://api.github.com/x', headers, data: { message } },
      });
    const notFound = translate(error(404, 'Not Found'), 'granting eng to ghost', 0, 'ghost');
    expect(notFound).toBeInstanceOf(TerminalError);
    expect(notFound.message).toBe(
      "granting eng to ghost: no GitHub user 'ghost' (or no access to it): GitHub answered 404 to PUT /x: Not Found",
    );
    const limited = translate(
      error(403, 'You have exceeded a secondary rate limit', { 'retry-after': '30' }),
      'x',
      0,
      'a',
    );
    expect(limited).toBeInstanceOf(TransientError);
    expect((limited as InstanceType<typeof TransientError>).retryAfterMs).toBe(30_000);
    expect(translate(error(502, 'Bad Gateway'), 'x', 0, 'a')).toBeInstanceOf(TransientError);
    expect(translate(error(403, 'Must have admin rights'), 'x', 0, 'a')).toBeInstanceOf(TerminalError);
  });
});

describe('github connector as a GitHub App', () => {
  it('signs a JWT with the private key from the environment and works with the installation token', async () => {
    const server = await org();
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      server.appKey = publicKey;
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  - { id: carol, name: Carol, email: carol@example.com, accounts: { gh: carol-n } }\n',
        'grants/gh/_app.yaml':
          'name: G\nconnector:\n  type: github\n  org: acme\n  writeIntervalMs: 0\n  app: { appId: 123, privateKeyEnv: IDEN_APP_KEY, installationId: 456 }\nentitlements:\n  - { id: eng, kind: group, team: engineering }\n',
        'grants/gh/carol.yaml': 'user: carol\napp: gh\npermissions: [eng]\n',
      });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const result = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict'], {
        env: { IDEN_APP_KEY: pem, GITHUB_API_URL: server.url },
      });
      expect(result.stdout).toContain('Plan: 0 to grant, 0 to revoke, 0 held, 0 apps skipped.');
      expect(server.requests[0]).toBe('POST /app/installations/456/access_tokens');
      expect(server.authorizations.slice(1).every((a) => a === 'token ghs_installation_456')).toBe(true);
      const missing = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict'], {
        env: { GITHUB_API_URL: server.url },
      });
      expect(missing.stdout).toContain('error: gh skipped: no credentials: IDEN_APP_KEY is not set');
    } finally {
      await server.stop();
    }
  });
});

function rmGrant(dir: string, user: string) {
  rmSync(`${dir}/grants/gh/${user}.yaml`);
  commitAll(dir, `${user} leaves`);
}

describe('github connector: one membership request, Enterprise Server, pacing', () => {
  it('sends one membership request per person, with the role they end with', async () => {
    const server = await org();
    try {
      for (const u of ['dan', 'eve', 'fay']) server.users.add(u);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  - { id: dan, name: Dan, email: dan@example.com, accounts: { github: dan } }\n  - { id: eve, name: Eve, email: eve@example.com, accounts: { github: eve } }\n  - { id: fay, name: Fay, email: fay@example.com, accounts: { github: fay } }\n  - { id: owner, name: Owner, email: owner@example.com, accounts: { github: owner } }\n',
        'grants/gh/_app.yaml':
          'name: G\nconnector: { type: github, org: acme, writeIntervalMs: 0 }\nentitlements:\n  - { id: owners, kind: role, orgRole: admin }\nlicenses:\n  - { id: basic, seats: 10 }\n  - { id: copilot, seats: 5, copilot: true }\n',
        // dan: owner plus the organisation seat; eve: the seat alone; fay: a Copilot seat alone.
        'grants/gh/dan.yaml': 'user: dan\napp: gh\npermissions: [owners]\nlicense: basic\n',
        'grants/gh/eve.yaml': 'user: eve\napp: gh\nlicense: basic\n',
        'grants/gh/fay.yaml': 'user: fay\napp: gh\nlicense: copilot\n',
        'grants/gh/owner.yaml': 'user: owner\napp: gh\npermissions: [owners]\nlicense: basic\n',
      });
      commitAll(dir, 'three newcomers');
      const run = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
        env: env(server),
        retry: FAST,
      });
      expect(run.code).toBe(0);
      const writes = server.requests.filter((r) => !r.startsWith('GET'));
      expect(writes).toEqual([
        'PUT /orgs/acme/memberships/dan',
        'PUT /orgs/acme/memberships/eve',
        'PUT /orgs/acme/memberships/fay',
        'POST /orgs/acme/copilot/billing/selected_users',
      ]);
      expect(server.invitations.map((i) => `${i.login} ${i.role}`)).toEqual([
        'dan admin',
        'eve direct_member',
        'fay direct_member',
      ]);
      expect([...server.copilot]).toEqual(['fay']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it.each(['ghes-3.17', 'ghes-3.19'] as const)(
    'observes GitHub Enterprise Server (%s), which has no invitation or Copilot routes, checked against its description',
    async (ghes) => {
      const server = await org({ plan: ghes });
      try {
        // Without a Copilot tier (never declared, so none retired), everything else works,
        // and the missing invitation routes are said once.
        const dir = accessRepo({
          'grants/gh/_app.yaml': `name: GitHub
connector: { type: github, org: acme, writeIntervalMs: 0 }
entitlements:
  - { id: eng, kind: group, team: engineering }
  - { id: plat-push, kind: permission, repo: platform, permission: push }
  - { id: owners, kind: role, orgRole: admin }
licenses:
  - { id: basic, seats: 10 }
`,
          'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [eng, plat-push]\nlicense: basic\n',
        });
        const gh = join(dir, 'grants/gh/_app.yaml');
        const run = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
          env: env(server),
          retry: FAST,
        });
        expect(run.code).toBe(0);
        expect(run.stderr).toContain(
          'notice: gh: this GitHub has no invitation routes (GET /orgs/acme/invitations answered 404, as on GitHub Enterprise Server)',
        );
        expect(server.teams.get('engineering')!.has('alice-m')).toBe(true);
        expect(server.errors).toEqual([]);
        // A Copilot tier on a server without Copilot cannot be observed, and says why.
        writeFileSync(
          gh,
          `${readFileSync(gh, 'utf8').replace('licenses:\n', 'licenses:\n  - { id: copilot, seats: 5, copilot: true }\n')}`,
        );
        commitAll(dir, 'copilot again');
        // A run applies that version (skipping the app, and recording so): the tier was iden's to manage.
        await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], {
          env: env(server),
          retry: FAST,
        });
        const p = await plan(dir, server);
        expect(p.skipped[0]!.reason).toContain(
          'Copilot seats are not available on this GitHub (GET /orgs/acme/copilot/billing/seats answered 404)',
        );
        // Terminal: asking again cannot make the route appear.
        expect(p.skipped[0]!.reason).not.toContain('attempts');
        // Removed as advised, the tier is retired: it cannot be observed either, and is left out, never blocking the app.
        writeFileSync(
          gh,
          readFileSync(gh, 'utf8').replace('  - { id: copilot, seats: 5, copilot: true }\n', ''),
        );
        commitAll(dir, 'no Copilot on this GitHub');
        const retired = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict'], {
          env: env(server),
          retry: FAST,
        });
        expect(retired.stdout).toContain('0 apps skipped.');
        expect(retired.stderr).toContain(
          "notice: gh: Copilot seats are not available on this GitHub (GET /orgs/acme/copilot/billing/seats answered 404): 'copilot', removed from _app.yaml, is left out; nobody holds it here",
        );
        expect(server.errors).toEqual([]);
      } finally {
        await server.stop();
      }
    },
  );

  it('gives errors their HTTP status and route even when GitHub sends no message', async () => {
    const { RequestError } = await import('@octokit/request-error');
    const { describeError } = await import('../../src/connectors/github/errors.js');
    const bare = new RequestError('', 502, {
      request: {
        method: 'GET',
        url: 'https://ghe.example.com/api/v3/orgs/acme/members?per_page=100',
        headers: { authorization: 'token secret' },
      },
      response: { status: 502, url: '', headers: {}, data: '' },
    });
    expect(describeError(bare)).toBe('GitHub answered 502 to GET /api/v3/orgs/acme/members');
    expect(describeError(bare)).not.toContain('secret');
  });

  it('paces content-creating writes within 80 a minute and 500 an hour, saying how long and how many are left', async () => {
    const { Pacer } = await import('../../src/connectors/github/client.js');
    let now = 0;
    const waits: number[] = [];
    const notices: string[] = [];
    const pacer = new Pacer(0, (t) => notices.push(t), {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    pacer.remaining = 600;
    for (let i = 0; i < 600; i++) {
      await pacer.beforeWrite(true);
      now += 10;
    }
    // Every 80 writes wait for the minute to turn (the 81st, 161st, … 481st, and the 581st
    // once the hour has turned); the 501st waits for the hour.
    expect(waits.filter((w) => w > 40_000 && w <= 60_000)).toHaveLength(7);
    expect(Math.max(...waits)).toBeGreaterThan(3_000_000);
    expect(notices.find((n) => n.includes('500 content-creating requests an hour'))).toMatch(
      /^GitHub allows 500 content-creating requests an hour: waiting \d+m\d*s?; 100 writes left$/,
    );
    // Removals create nothing: only spacing applies.
    const spacing = new Pacer(1000, () => undefined, {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const before = now;
    for (let i = 0; i < 200; i++) await spacing.beforeWrite(false);
    expect(now - before).toBe(199_000);
    // An Enterprise Server with rate limiting off: contentPerMinute and contentPerHour 0.
    const { contentLimits } = await import('../../src/connectors/github/client.js');
    const unlimited = new Pacer(
      0,
      () => undefined,
      {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
      contentLimits(0, 0),
    );
    const start = now;
    for (let i = 0; i < 1000; i++) await unlimited.beforeWrite(true);
    expect(now).toBe(start);
    expect(contentLimits(10, 0).map((l) => l.name)).toEqual(['10 content-creating requests a minute']);
  });
});
