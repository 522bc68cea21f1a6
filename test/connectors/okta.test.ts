import { generateKeyPairSync } from 'node:crypto';
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

describe('okta connector: group rules, large groups, import', () => {
  it('holds members a group rule may have added through the rule: never drift, never removed, said in a notice', async () => {
    const o = await org();
    const { server } = o;
    try {
      for (const login of ['erin@example.com', 'frank@example.com', 'gina@example.com'])
        server.addUser(login);
      const auto = server.addGroup('sales-auto');
      const erin = server.user('erin@example.com');
      const frank = server.user('frank@example.com');
      const gina = server.user('gina@example.com');
      auto.members.push(erin.id, frank.id, gina.id);
      // gina is excluded from the rule: she is in the group by hand. An inactive rule feeds nothing.
      const rule = server.addRule('Sales department', [auto], [gina]);
      server.addRule('Old sales rule', [o.sales]).status = 'INACTIVE';
      const people = `${PEOPLE}  - { id: erin, name: Erin, email: erin@example.com }
  - { id: frank, name: Frank, email: frank@example.com }
  - { id: gina, name: Gina, email: gina@example.com }
`;
      const dir = writeTree({
        'grants/_people.yaml': people,
        'grants/okta/_app.yaml': okta(o, '  - { id: auto, kind: group, group: sales-auto }\nprune: true\n'),
        'grants/okta/frank.yaml': 'user: frank\napp: okta\npermissions: [auto]\n',
        'grants/okta/bob.yaml': 'user: bob\napp: okta\npermissions: [sales]\n',
        'grants/okta/mallory.yaml': 'user: mallory\napp: okta\npermissions: [eng]\n',
      });
      commitAll(dir, 'access');
      const result = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW]);
      const p = JSON.parse(result.stdout) as Plan;
      // frank's grant is met through the rule; erin (no grant) is not drift; gina, excluded from the rule, is.
      expect(brief(p)).toEqual(['revoke gina auto drift']);
      expect(p.drift.map((d) => d.user)).toEqual(['gina']);
      expect(result.stderr).toContain(
        'notice: okta: group sales-auto is also fed by group rule "Sales department": its 2 members the rule may have added count as held through the rule, and iden removes none of them',
      );
      expect(result.stderr).not.toContain('Old sales rule');

      // frank's grant is deleted: the rule still feeds him, so nothing is removed.
      rmSync(`${dir}/grants/okta/frank.yaml`);
      commitAll(dir, 'frank leaves');
      expect(brief(await plan(o, dir))).toEqual(['revoke gina auto drift']);
      expect((await apply(o, dir)).code).toBe(0);
      expect(server.members(auto)).toEqual(['erin@example.com', 'frank@example.com']);
      // Okta puts anyone removed from a rule's group on its exclusions: iden removed only someone already there.
      expect(rule.exclude).toEqual([gina.id]);

      // An import writes what iden may own: not the rule's members.
      const imported = await cli(o, [
        'import',
        '--repo',
        dir,
        '--app',
        'okta',
        '--at',
        NOW,
        '--format',
        'json',
      ]);
      expect((JSON.parse(imported.stdout) as { written: string[] }).written).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reads a group of 2,000 members in two pages; import writes their grants, then the plan is empty', async () => {
    const o = await org();
    const { server } = o;
    try {
      const staff = server.addGroup('all-staff');
      const ids = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
      for (const id of ids) staff.members.push(server.addUser(`${id}@example.com`).id);
      const dir = writeTree({
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
        'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}' }\nentitlements:\n  - { id: staff, kind: group, group: all-staff }\n`,
      });
      commitAll(dir, 'no grants yet');
      const imported = await cli(o, [
        'import',
        '--repo',
        dir,
        '--app',
        'okta',
        '--at',
        NOW,
        '--format',
        'json',
      ]);
      expect((JSON.parse(imported.stdout) as { written: string[] }).written).toHaveLength(2000);
      expect(server.requests).toEqual([
        'GET /api/v1/groups',
        `GET /api/v1/groups/${staff.id}/users`,
        `GET /api/v1/groups/${staff.id}/users`,
        'GET /api/v1/groups/rules',
      ]);
      commitAll(dir, 'imported');
      server.requests.length = 0;
      const p = await plan(o, dir);
      expect(brief(p)).toEqual([]);
      expect(p.drift).toEqual([]);
      expect(server.requests).toHaveLength(4);
      const view = await cli(o, [
        'access',
        '--repo',
        dir,
        '--at',
        NOW,
        '--app',
        'okta',
        '--user',
        'p1999',
        '--observed',
        '--format',
        'json',
      ]);
      expect((JSON.parse(view.stdout) as { access: { user: string; observed?: string }[] }).access).toEqual([
        expect.objectContaining({ user: 'p1999', observed: 'in-sync' }),
      ]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

/** An org with `count` people to add to the group `crowd`, and their grants. */
async function crowd(count: number, app = '') {
  const o = await org();
  const group = o.server.addGroup('crowd');
  const ids = Array.from({ length: count }, (_, i) => `c${String(i).padStart(3, '0')}`);
  for (const id of ids) o.server.addUser(`${id}@example.com`);
  const dir = writeTree({
    'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
    'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${o.server.url}', timeoutMs: 300 }\nentitlements:\n  - { id: crowd, kind: group, group: crowd }\n${app}`,
    ...Object.fromEntries(
      ids.map((id) => [`grants/okta/${id}.yaml`, `user: ${id}\napp: okta\npermissions: [crowd]\n`]),
    ),
  });
  commitAll(dir, `${count} people`);
  return { ...o, group, dir };
}

describe('okta connector: rate limits, outages and refusals', () => {
  it('waits out a rate-limited minute and a 429, stays within its share of the bucket, and converges', async () => {
    const o = await crowd(120);
    const { server, clock } = o;
    try {
      // The org's /api/v1/groups bucket allows 100 a minute here: iden's share is 50.
      server.limits['/api/v1/groups'] = 100;
      // Other clients have spent 60 of this minute; and one write is refused with a 429 later on.
      server.others('/api/v1/groups', 60);
      server.inject('429', 1, /^PUT .*\/users\/00u0000000060test$/);
      const start = clock.now();
      const run = await apply(o, o.dir);
      expect(run.stdout).toContain('Applied: 120 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(run.code).toBe(0);
      expect(o.group.members).toHaveLength(120);
      // No request in a refused minute before its reset (checked by the server), and never more than iden's share.
      expect(server.errors).toEqual([]);
      const minutes = server.windows.filter((w) => w.bucket === '/api/v1/groups');
      expect(Math.max(...minutes.map((w) => w.iden))).toBeLessThanOrEqual(50);
      expect(minutes.every((w) => w.iden + w.others <= 100 || w.iden === 0)).toBe(true);
      // 120 writes at 50 a minute (2.4 minutes), plus at most the rest of the minute others spent
      // and the rest of the minute refused with a 429: computed on the clock, never slept.
      const minutesTaken = (clock.now() - start) / 60_000;
      expect(minutesTaken).toBeGreaterThan(2.4);
      expect(minutesTaken).toBeLessThanOrEqual(4.4);
      expect(run.stderr).toMatch(
        /notice: okta: Okta allows 100 requests a minute to \/api\/v1\/groups \(\d+ of this minute's 100 are left, and iden leaves 50 to the org's other clients\): waiting \d+s; \d+ writes left/,
      );
      // One PUT per membership, and the one refused sent again.
      expect(writes(server)).toHaveLength(121);
    } finally {
      await server.stop();
    }
  });

  it('retries a burst of server errors, a dropped connection and an unanswered request; each change written once', async () => {
    const o = await crowd(6);
    const { server } = o;
    try {
      server.inject('hang', 1, /^GET .*\/users$/);
      server.inject('5xx', 3, /^PUT/);
      server.inject('reset', 1, /^PUT/);
      const run = await apply(o, o.dir);
      expect(run.stdout).toContain('Applied: 6 granted, 0 revoked, 0 unchanged, 0 failed.');
      // Six memberships, four refused or dropped and sent again; the member list read again after the unanswered page.
      expect(writes(server)).toHaveLength(10);
      expect(server.requests.filter((r) => r.endsWith(`${o.group.id}/users`))).toHaveLength(2);
      expect(brief(await plan(o, o.dir))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('skips the app when the token is refused, stops its changes when refused mid-run, and never prints the token', async () => {
    const o = await crowd(4);
    const { server } = o;
    try {
      server.refuseToken();
      const p = await cli(o, ['plan', '--repo', o.dir, '--format', 'json', '--at', NOW]);
      const skipped = (JSON.parse(p.stdout) as Plan).skipped;
      expect(skipped[0]!.reason).toBe(
        'cannot observe: reading Okta org ' +
          `${new URL(server.url).host}: Okta answered 401 E0000011 Invalid token provided to GET /api/v1/groups: Okta refused the credentials; check that OKTA_API_TOKEN holds a current API token (Okta revokes tokens unused for 30 days, and with their admin)`,
      );
      server.refused = false;
      server.inject('401', 1, /^PUT/);
      const run = await apply(o, o.dir);
      expect(run.code).toBe(1);
      // The first write is refused; the rest are not sent with credentials Okta refused.
      expect(run.stdout).toContain('Applied: 0 granted, 0 revoked, 0 unchanged, 4 failed.');
      expect(run.stdout.match(/Okta refused the credentials/g)).toHaveLength(4);
      expect(writes(server)).toHaveLength(1);
      for (const text of [p.stdout, p.stderr, run.stdout, run.stderr]) expect(text).not.toContain(TOKEN);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('okta connector: a service app, admin roles, settings', () => {
  const READ = ['okta.groups.read', 'okta.apps.read'];
  const ALL = [...READ, 'okta.users.read', 'okta.groups.manage', 'okta.apps.manage'];

  function serviceRepo(o: Org, oauth: string) {
    const dir = writeTree({
      'grants/_people.yaml': PEOPLE,
      'grants/okta/_app.yaml': okta(o).replace(
        `timeoutMs: 2000 }`,
        `timeoutMs: 2000, oauth: { clientId: 0oaiden, privateKeyEnv: OKTA_KEY${oauth} } }`,
      ),
      'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales, sf-user]\n',
      'grants/okta/bob.yaml': 'user: bob\napp: okta\npermissions: [sales]\n',
      'grants/okta/mallory.yaml': 'user: mallory\napp: okta\npermissions: [eng]\n',
    });
    commitAll(dir, 'access through a service app');
    return dir;
  }

  it('signs in as a service app with a private-key JWT: read scopes to plan, manage scopes only to apply', async () => {
    const o = await org();
    const { server } = o;
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      server.serviceApp = { clientId: '0oaiden', key: publicKey, scopes: ALL };
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const dir = serviceRepo(o, '');
      const keyEnv = { OKTA_KEY: pem };
      const planned = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], keyEnv);
      expect((JSON.parse(planned.stdout) as Plan).skipped).toEqual([]);
      expect(brief(JSON.parse(planned.stdout) as Plan)).toEqual([
        'grant alice sales new-grant',
        'grant alice sf-user new-grant',
      ]);
      expect(server.tokenRequests).toEqual([READ.join(' ')]);
      const applied = await cli(o, ['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], keyEnv);
      expect(applied.stdout).toContain('Applied: 2 granted');
      // The apply observes with a read-only token, and asks for the manage scopes at its first write: once.
      expect(server.tokenRequests).toEqual([READ.join(' '), READ.join(' '), ALL.join(' ')]);
      const outputs = [planned.stdout, planned.stderr, applied.stdout, applied.stderr].join('\n');
      for (const secret of [...server.issued, pem.split('\n')[1]!]) expect(outputs).not.toContain(secret);

      // A JWK with its kid works too.
      const jwk = JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'iden-1' });
      const again = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], { OKTA_KEY: jwk });
      expect(brief(JSON.parse(again.stdout) as Plan)).toEqual([]);

      // A service app granted only the read scopes can plan; an apply stops at its first write and says what to grant.
      server.serviceApp.scopes = READ;
      writeTree({ 'grants/okta/carol.yaml': 'user: carol\napp: okta\npermissions: [sales]\n' }, dir);
      commitAll(dir, 'carol');
      const refused = await cli(o, ['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], keyEnv);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(
        `Okta refused (invalid_scope: The following scopes were requested, but not granted: okta.users.read okta.groups.manage okta.apps.manage); grant the service app these scopes in Okta (Okta API Scopes tab): ${ALL.join(' ')}`,
      );

      // Another key: refused, with what to check, and the key never printed.
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const wrong = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
        OKTA_KEY: other,
      });
      expect((JSON.parse(wrong.stdout) as Plan).skipped[0]!.reason).toContain(
        'Okta refused (invalid_client: The client_assertion signature is invalid.); check the client id, and that the service app has the public key of this private key',
      );
      expect(wrong.stdout + wrong.stderr).not.toContain(other.split('\n')[1]!);
      const garbage = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
        OKTA_KEY: 'not-a-key-secret',
      });
      expect((JSON.parse(garbage.stdout) as Plan).skipped[0]!.reason).toContain(
        'OKTA_KEY does not hold a private key iden can read',
      );
      expect(garbage.stdout).not.toContain('not-a-key-secret');
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('assigns and takes admin roles only where adminRoles allows; a role held through a group is not drift', async () => {
    const o = await org();
    const { server } = o;
    try {
      const bob = server.user('bob@example.com');
      const carol = server.user('carol@example.com');
      server.roles.set(bob.id, [{ id: 'ra1bob', type: 'APP_ADMIN', assignmentType: 'GROUP' }]);
      server.roles.set(carol.id, [{ id: 'ra1carol', type: 'READ_ONLY_ADMIN', assignmentType: 'USER' }]);
      const app = (extra: string) =>
        `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}'${extra} }\nentitlements:\n  - { id: app-admin, kind: role, role: APP_ADMIN }\n  - { id: read-only, kind: role, role: READ_ONLY_ADMIN }\n`;
      const dir = writeTree({
        'grants/_people.yaml': PEOPLE,
        'grants/okta/_app.yaml': app(''),
        'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [app-admin]\n',
      });
      commitAll(dir, 'roles');
      const off = JSON.parse(
        (await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW])).stdout,
      ) as Plan;
      expect(off.skipped[0]!.reason).toBe(
        'cannot observe: app-admin, read-only are admin roles, which this app does not manage: set adminRoles: true in its connector block to let iden assign them',
      );
      writeTree({ 'grants/okta/_app.yaml': app(', adminRoles: true') }, dir);
      commitAll(dir, 'roles on');
      const p = await plan(o, dir);
      expect(brief(p)).toEqual(['grant alice app-admin new-grant']);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['carol read-only']);
      expect((await apply(o, dir)).code).toBe(0);
      const alice = server.user('alice@example.com');
      expect(server.roles.get(alice.id)!.map((r) => r.type)).toEqual(['APP_ADMIN']);
      const assignment = server.roles.get(alice.id)![0]!.id;
      rmSync(`${dir}/grants/okta/alice.yaml`);
      commitAll(dir, 'alice is no longer an app admin');
      expect(brief(await plan(o, dir))).toEqual(['revoke alice app-admin removed']);
      server.requests.length = 0;
      expect((await apply(o, dir)).code).toBe(0);
      expect(writes(server)).toEqual([`DELETE /api/v1/users/${alice.id}/roles/${assignment}`]);
      expect(server.roles.get(alice.id)).toEqual([]);
      expect(server.roles.get(bob.id)).toHaveLength(1);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it.each([
    [
      'a group that is not there',
      '  - { id: gone, kind: group, group: nope }\n',
      'no Okta group named "nope"; create it in Okta first',
    ],
    [
      'a group Active Directory feeds',
      '  - { id: ad, kind: group, group: ad-staff }\n',
      'group ad-staff is of type APP_GROUP: its members are managed in the directory or app that imports it (map it there), not through the API',
    ],
    [
      'a group mapped twice',
      '  - { id: sales-again, kind: group, group: Salesforce-Users }\n',
      'sales and sales-again both map to group salesforce-users',
    ],
    ['an app that is not there', '  - { id: wiki, kind: app, app: Wiki }\n', 'no Okta app labelled "Wiki"'],
  ])('skips the app, without retrying, for %s', async (_, entitlement, reason) => {
    const o = await org();
    try {
      o.server.addGroup('ad-staff', { type: 'APP_GROUP' });
      const dir = accessRepo(o, {}, entitlement);
      const p = await plan(o, dir);
      expect(p.skipped[0]!.reason).toContain(reason);
      expect(p.skipped[0]!.reason).not.toContain('attempts');
    } finally {
      await o.server.stop();
    }
  });

  it('finds a user Okta’s search has not indexed yet by their login, and only then', async () => {
    const o = await org();
    try {
      o.server.addUser('newcomer@example.com', { indexed: false });
      const dir = writeTree({
        'grants/_people.yaml': `${PEOPLE}  - { id: newcomer, name: New, email: newcomer@example.com }\n`,
        'grants/okta/_app.yaml': okta(o),
        'grants/okta/newcomer.yaml': 'user: newcomer\napp: okta\npermissions: [sales]\n',
        'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales]\n',
      });
      commitAll(dir, 'newcomer');
      expect((await apply(o, dir)).stdout).toContain('Applied: 2 granted');
      expect(o.server.requests.filter((r) => r.startsWith('GET /api/v1/users'))).toEqual([
        'GET /api/v1/users',
        'GET /api/v1/users/newcomer%40example.com',
      ]);
      expect(o.server.members(o.sales)).toEqual([
        'alice@example.com',
        'bob@example.com',
        'newcomer@example.com',
      ]);
      expect(o.server.errors).toEqual([]);
    } finally {
      await o.server.stop();
    }
  });
});
