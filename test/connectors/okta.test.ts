import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { OktaServer } from '../helpers/okta-server.js';
import { writeTree } from '../helpers/repo.js';
import { RunningClock } from '../helpers/running-clock.js';

const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: the run's own retry waits a few milliseconds; rate-limit waits pass on the clock. */
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const TOKEN = 'okta-test-token';

/** An org: alice, bob, carol and mallory; bob is in salesforce-users, mallory in engineering by hand. */
async function org() {
  const clock = new RunningClock(TEST_NOW);
  const server = new OktaServer(clock);
  for (const login of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'mallory@example.com'])
    server.addUser(login);
  const sales = server.addGroup('salesforce-users');
  const eng = server.addGroup('engineering');
  sales.members.push(server.user('bob@example.com').id);
  eng.members.push(server.user('mallory@example.com').id);
  const sf = server.addApp('Salesforce');
  await server.start();
  return { clock, server, sales, eng, sf };
}

type Org = Awaited<ReturnType<typeof org>>;

function okta(o: Org, extra = '') {
  return `name: Okta
connector: { type: okta, orgUrl: '${o.server.url}', timeoutMs: 2000 }
entitlements:
  - { id: sales, kind: group, group: salesforce-users }
  - { id: eng, kind: group, groupId: ${o.eng.id} }
  - { id: sf-user, kind: app, app: Salesforce, profile: { role: User } }
  - { id: sf-admin, kind: app, appId: ${o.sf.id}, profile: { role: Admin } }
${extra}`;
}

const PEOPLE = `people:
  - { id: alice, name: Alice, email: alice@example.com }
  - { id: bob, name: Bob, email: bob@example.com }
  - { id: carol, name: Carol, email: Carol@Example.com }
  - { id: dan, name: Dan, email: dan@example.com }
  - { id: mallory, name: Mallory, email: mallory@example.com }
`;

function accessRepo(o: Org, grants: Record<string, string>, app = '') {
  const dir = writeTree({
    'grants/_people.yaml': PEOPLE,
    'grants/okta/_app.yaml': okta(o, app),
    ...Object.fromEntries(
      Object.entries(grants).map(([user, text]) => [
        `grants/okta/${user}.yaml`,
        `user: ${user}\napp: okta\n${text}`,
      ]),
    ),
  });
  commitAll(dir, 'access');
  return dir;
}

const env = { OKTA_API_TOKEN: TOKEN };
const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

function cli(o: Org, args: string[], environment: NodeJS.ProcessEnv = env) {
  return runCli(args, { env: environment, retry: FAST, clock: o.clock });
}
async function plan(o: Org, dir: string, at = NOW): Promise<Plan> {
  const result = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', at]);
  if (!result.stdout) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Plan;
}
const apply = (o: Org, dir: string, at = NOW, extra: string[] = []) =>
  cli(o, ['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra]);
const writes = (server: OktaServer) => server.requests.filter((r) => !r.startsWith('GET'));

describe('okta connector through the CLI, against an Okta test server checked against Okta’s description', () => {
  it('grants, changes, ends and revokes group memberships and app assignments, one request each', async () => {
    const o = await org();
    const { server } = o;
    try {
      const dir = accessRepo(o, {
        alice: 'permissions: [sales, sf-admin]\n',
        bob: 'permissions: [sales]\n',
        carol: 'permissions: [eng, sf-user]\nend: 2026-12-15\n',
        dan: 'permissions: [sales]\n',
      });
      const first = await plan(o, dir);
      expect(brief(first)).toEqual([
        'grant alice sales new-grant',
        'grant alice sf-admin new-grant',
        'grant carol eng new-grant',
        'grant carol sf-user new-grant',
        'grant dan sales new-grant',
      ]);
      expect(first.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['mallory eng']);
      // Observe: the group by name and the group by id (a search and a filter), the rules, each group's members, the app's users.
      expect(server.requests).toEqual([
        'GET /api/v1/groups',
        'GET /api/v1/groups',
        `GET /api/v1/groups/${o.sales.id}/users`,
        `GET /api/v1/groups/${o.eng.id}/users`,
        'GET /api/v1/groups/rules',
        'GET /api/v1/apps',
        `GET /api/v1/apps/${o.sf.id}/users`,
      ]);

      server.requests.length = 0;
      const applied = await apply(o, dir);
      expect(applied.stdout).toContain('Applied: 4 granted, 0 revoked, 0 unchanged, 1 failed.');
      expect(applied.stdout).toMatch(
        /no Okta user with login dan@example\.com in 127\.0\.0\.1:\d+: iden never creates Okta users; create the user in Okta, or give their Okta login as accounts\.okta in _people\.yaml/,
      );
      expect(applied.code).toBe(1);
      const id = (login: string) => server.user(login).id;
      // Users looked up together (one search), dan once more by login (search may lag): then one write per change.
      expect(server.requests.filter((r) => r.startsWith('GET /api/v1/users'))).toEqual([
        'GET /api/v1/users',
        'GET /api/v1/users/dan%40example.com',
      ]);
      expect(writes(server).sort()).toEqual(
        [
          `POST /api/v1/apps/${o.sf.id}/users`,
          `POST /api/v1/apps/${o.sf.id}/users`,
          `PUT /api/v1/groups/${o.eng.id}/users/${id('carol@example.com')}`,
          `PUT /api/v1/groups/${o.sales.id}/users/${id('alice@example.com')}`,
        ].sort(),
      );
      expect(server.members(o.sales)).toEqual(['alice@example.com', 'bob@example.com']);
      expect(o.sf.users.get(id('alice@example.com'))).toEqual({ scope: 'USER', profile: { role: 'Admin' } });
      expect(o.sf.users.get(id('carol@example.com'))).toEqual({ scope: 'USER', profile: { role: 'User' } });

      rmSync(`${dir}/grants/okta/dan.yaml`);
      commitAll(dir, 'dan has no Okta account');
      expect(brief(await plan(o, dir))).toEqual([]);

      // Alice moves from admin to user: one profile change, the old value gone with it.
      writeTree({ 'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales, sf-user]\n' }, dir);
      commitAll(dir, 'alice is a Salesforce user now');
      expect(brief(await plan(o, dir))).toEqual([
        'revoke alice sf-admin changed',
        'grant alice sf-user changed',
      ]);
      server.requests.length = 0;
      expect((await apply(o, dir)).stdout).toContain('Applied: 1 granted, 1 revoked, 0 unchanged, 0 failed.');
      expect(writes(server)).toEqual([`POST /api/v1/apps/${o.sf.id}/users/${id('alice@example.com')}`]);
      expect(o.sf.users.get(id('alice@example.com'))!.profile).toEqual({ role: 'User' });

      // Carol's end passes: her membership and assignment go.
      const later = '2026-12-16T09:00:00Z';
      expect(brief(await plan(o, dir, later))).toEqual([
        'revoke carol eng expired',
        'revoke carol sf-user expired',
      ]);
      server.requests.length = 0;
      expect((await apply(o, dir, later)).stdout).toContain('Applied: 0 granted, 2 revoked');
      expect(writes(server).sort()).toEqual(
        [
          `DELETE /api/v1/apps/${o.sf.id}/users/${id('carol@example.com')}`,
          `DELETE /api/v1/groups/${o.eng.id}/users/${id('carol@example.com')}`,
        ].sort(),
      );

      // Alice's grant is deleted: everything it gave goes.
      rmSync(`${dir}/grants/okta/alice.yaml`);
      commitAll(dir, 'alice leaves');
      expect(brief(await plan(o, dir, later))).toEqual([
        'revoke alice sales removed',
        'revoke alice sf-user removed',
      ]);
      expect((await apply(o, dir, later)).code).toBe(0);
      expect(server.members(o.sales)).toEqual(['bob@example.com']);
      expect(o.sf.users.size).toBe(0);

      // Mallory, added to engineering by hand, is drift: kept, until the app prunes.
      expect((await plan(o, dir, later)).drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual([
        'mallory eng drift',
      ]);
      writeTree({ 'grants/okta/_app.yaml': okta(o, 'prune: true\n') }, dir);
      commitAll(dir, 'prune');
      expect(brief(await plan(o, dir, later))).toEqual(['revoke mallory eng drift']);
      expect((await apply(o, dir, later)).code).toBe(0);
      expect(server.members(o.eng)).toEqual([]);
      expect(brief(await plan(o, dir, later))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
