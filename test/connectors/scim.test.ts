import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';
import { addGroup, setBulkSupported, setPatchSupported, startScimServer } from '../helpers/scim-server.js';

const NOW = '2026-11-27T12:00:00Z';
let server: Awaited<ReturnType<typeof startScimServer>>;

beforeAll(async () => {
  server = await startScimServer();
});
afterAll(() => server.stop());

function repo(url: string): string {
  const dir = writeTree({
    'grants/_people.yaml': `people:
  - { id: heidi, name: Heidi Larsen, email: heidi@example.com }
  - { id: grace, name: Grace Kim, email: grace@example.com }
  - { id: bob, name: Bob Okafor, email: bob@example.com, accounts: { sf: Bob.Okafor@example.com } }
`,
    'grants/sf/_app.yaml': `name: Salesforce
connector: { type: scim, baseUrl: ${url}, tokenEnv: SF_TOKEN }
entitlements:
  - { id: sales-rep, kind: role, role: Sales Rep }
  - { id: sales-team, kind: group, group: Sales }
  - { id: reports-export, kind: permission, entitlement: Reports Export }
licenses:
  - { id: salesforce, seats: 5, entitlement: Salesforce }
`,
    'grants/sf/heidi.yaml':
      'user: heidi\napp: sf\npermissions: [sales-rep, sales-team]\nlicense: salesforce\n',
    'grants/sf/grace.yaml':
      'user: grace\napp: sf\npermissions: [sales-team, reports-export]\nlicense: salesforce\nend: 2027-01-01\n',
    'grants/sf/bob.yaml': 'user: bob\napp: sf\npermissions: [sales-rep]\nlicense: salesforce\n',
  });
  commitAll(dir, 'salesforce access');
  return dir;
}

const env = { SF_TOKEN: 'scim-token' };
const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);
async function plan(dir: string, at = NOW): Promise<Plan> {
  return JSON.parse(
    (await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], { env })).stdout,
  ) as Plan;
}
const user = (name: string) =>
  [...server.store.users.values()].find((u) => String(u.userName).toLowerCase() === name.toLowerCase()) as
    | { id: string; active: boolean; roles?: { value: string }[]; entitlements?: { value: string }[] }
    | undefined;

describe('scim connector against SCIMMY, a SCIM 2.0 implementation nobody here wrote', () => {
  it('creates Users, joins groups, sets roles and entitlements; a second plan is empty; the end deactivates', async () => {
    const sales = addGroup('Sales');
    // bob already exists, deactivated: he is reactivated, not created again.
    server.store.users.set('b1', {
      id: 'b1',
      userName: 'bob.okafor@example.com',
      active: false,
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    });
    const dir = repo(server.url);
    server.store.requests.length = 0;
    const applied = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env });
    expect(applied.stdout).toContain('Applied: 8 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(applied.code).toBe(0);
    const heidi = user('heidi@example.com')!;
    expect(heidi.active).toBe(true);
    expect(heidi.roles?.map((r) => r.value)).toEqual(['Sales Rep']);
    expect(heidi.entitlements?.map((e) => e.value)).toEqual(['Salesforce']);
    expect(
      user('grace@example.com')!
        .entitlements?.map((e) => e.value)
        .sort(),
    ).toEqual(['Reports Export', 'Salesforce']);
    expect(user('bob.okafor@example.com')).toMatchObject({ id: 'b1', active: true });
    const members = (server.store.groups.get(sales)!.members as { value: string }[])
      .map((m) => m.value)
      .sort();
    expect(members).toEqual([heidi.id, user('grace@example.com')!.id].sort());
    // The minimum: the config, one page of users, the group by filter; one request per user changed
    // (a new User is created with its roles and entitlements); one PATCH for the group.
    expect(server.store.requests).toEqual([
      'GET /scim/v2/ServiceProviderConfig',
      'GET /scim/v2/Users',
      'GET /scim/v2/Groups',
      'PATCH /scim/v2/Users/b1',
      'POST /scim/v2/Users',
      'POST /scim/v2/Users',
      `PATCH /scim/v2/Groups/${sales}`,
    ]);

    expect(brief(await plan(dir))).toEqual([]);

    // Someone added to the managed group by hand is drift.
    server.store.users.set('m1', { id: 'm1', userName: 'mallory@example.com', active: true });
    (server.store.groups.get(sales)!.members as { value: string }[]).push({ value: 'm1' });
    expect((await plan(dir)).drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual([
      'mallory@example.com sales-team',
    ]);

    // Past grace's end: everything she had goes, then her User is deactivated, never deleted.
    const later = await runCli(
      ['apply', '--repo', dir, '--at', '2027-01-02T00:00:00Z', '--yes', '--no-push'],
      { env },
    );
    expect(later.stdout).toContain('Applied: 0 granted, 3 revoked');
    const grace = user('grace@example.com')!;
    expect(grace.active).toBe(false);
    expect(grace.entitlements ?? []).toEqual([]);
    expect(
      (server.store.groups.get(sales)!.members as { value: string }[]).map((m) => m.value),
    ).not.toContain(grace.id);
    expect(brief(await plan(dir, '2027-01-02T00:00:00Z'))).toEqual([]);
  });

  it('adapts to a service without PATCH by replacing whole resources, and removes members in the value-array form', async () => {
    const team = addGroup('Team');
    const dir = writeTree({
      'grants/_people.yaml':
        'people:\n  - { id: kim, name: Kim, email: kim@example.com }\n  - { id: lee, name: Lee, email: lee@example.com }\n',
      'grants/t/_app.yaml': `name: T\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN, removeForm: value-array }\nentitlements:\n  - { id: team, kind: group, group: Team }\n  - { id: viewer, kind: role, role: Viewer }\n`,
      'grants/t/kim.yaml': 'user: kim\napp: t\npermissions: [team, viewer]\n',
      'grants/t/lee.yaml': 'user: lee\napp: t\npermissions: [team]\nend: 2027-01-01\n',
    });
    commitAll(dir, 'team');
    expect((await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env })).code).toBe(0);
    // Lee's end removes them with the value-array form, which SCIMMY applies.
    const later = await runCli(
      ['apply', '--repo', dir, '--at', '2027-01-02T00:00:00Z', '--yes', '--no-push'],
      { env },
    );
    expect(later.stdout).toContain('Applied: 0 granted, 1 revoked');
    const members = () => (server.store.groups.get(team)!.members as { value: string }[]).map((m) => m.value);
    expect(members()).toEqual([user('kim@example.com')!.id]);
    expect(user('lee@example.com')!.active).toBe(false);

    // A service without PATCH (its ServiceProviderConfig says so): whole resources are replaced instead.
    const plain = await startScimServer();
    // scimmy-routers declares PATCH support when it is built, so this comes after.
    setPatchSupported(false);
    try {
      const group = addGroup('Team');
      const other = writeTree({
        'grants/_people.yaml':
          'people:\n  - { id: kim, name: Kim, email: kim@example.com }\n  - { id: lee, name: Lee, email: lee@example.com }\n',
        'grants/t/_app.yaml': `name: T\nconnector: { type: scim, baseUrl: ${plain.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: team, kind: group, group: Team }\n  - { id: viewer, kind: role, role: Viewer }\n`,
        'grants/t/kim.yaml': 'user: kim\napp: t\npermissions: [team, viewer]\n',
        'grants/t/lee.yaml': 'user: lee\napp: t\npermissions: [team]\n',
      });
      commitAll(other, 'team');
      expect(
        (await runCli(['apply', '--repo', other, '--at', NOW, '--yes', '--no-push'], { env })).code,
      ).toBe(0);
      writeTree(
        {
          'grants/t/kim.yaml': 'user: kim\napp: t\npermissions: [team]\n',
          'grants/t/lee.yaml': 'user: lee\napp: t\npermissions: [team, viewer]\n',
        },
        other,
      );
      commitAll(other, 'kim and lee swap viewer');
      const put = await runCli(['apply', '--repo', other, '--at', NOW, '--yes', '--no-push'], { env });
      expect(put.stdout).toContain('Applied: 1 granted, 1 revoked, 0 unchanged, 0 failed.');
      expect(plain.store.requests.filter((r) => r.startsWith('PATCH'))).toEqual([]);
      expect(plain.store.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(3);
      expect(user('kim@example.com')!.roles ?? []).toEqual([]);
      expect(user('lee@example.com')!.roles).toEqual([{ value: 'Viewer' }]);
      const members = (plain.store.groups.get(group)!.members as { value: string }[])
        .map((m) => m.value)
        .sort();
      expect(members).toEqual([user('kim@example.com')!.id, user('lee@example.com')!.id].sort());
    } finally {
      setPatchSupported(true);
      await plain.stop();
    }
  });

  it('sends a run in one /Bulk request where the service supports it, new Users referenced by bulkId', async () => {
    const plain = await startScimServer();
    setBulkSupported(true);
    try {
      const group = addGroup('Ops');
      const dir = writeTree({
        'grants/_people.yaml':
          'people:\n  - { id: oli, name: Oli, email: oli@example.com }\n  - { id: pat, name: Pat, email: pat@example.com }\n',
        'grants/o/_app.yaml': `name: O\nconnector: { type: scim, baseUrl: ${plain.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: ops, kind: group, group: Ops }\n  - { id: pager, kind: permission, entitlement: Pager }\n`,
        'grants/o/oli.yaml': 'user: oli\napp: o\npermissions: [ops, pager]\n',
        'grants/o/pat.yaml': 'user: pat\napp: o\npermissions: [ops]\nend: 2027-01-01\n',
      });
      commitAll(dir, 'ops');
      const run = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env });
      expect(run.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(plain.store.requests).toEqual([
        'GET /scim/v2/ServiceProviderConfig',
        'GET /scim/v2/Users',
        'GET /scim/v2/Groups',
        'POST /scim/v2/Bulk',
      ]);
      const members = (plain.store.groups.get(group)!.members as { value: string }[])
        .map((m) => m.value)
        .sort();
      expect(members).toEqual([user('oli@example.com')!.id, user('pat@example.com')!.id].sort());
      expect(user('oli@example.com')!.entitlements).toEqual([{ value: 'Pager' }]);
      expect(brief(await plan(dir))).toEqual([]);
      // Pat's end: out of the group and deactivated, in one request again.
      plain.store.requests.length = 0;
      const later = await runCli(
        ['apply', '--repo', dir, '--at', '2027-01-02T00:00:00Z', '--yes', '--no-push'],
        { env },
      );
      expect(later.stdout).toContain('Applied: 0 granted, 1 revoked');
      expect(plain.store.requests.at(-1)).toBe('POST /scim/v2/Bulk');
      expect(user('pat@example.com')!.active).toBe(false);
    } finally {
      setBulkSupported(false);
      await plain.stop();
    }
  });

  it('retries 429 with Retry-After, and finds the User a 409 uniqueness says exists', async () => {
    const dir = writeTree({
      'grants/_people.yaml': 'people:\n  - { id: ivan, name: Ivan, email: ivan@example.com }\n',
      'grants/sf/_app.yaml': `name: S\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: rep, kind: role, role: Rep }\n`,
      'grants/sf/ivan.yaml': 'user: ivan\napp: sf\npermissions: [rep]\n',
    });
    // A User the listing does not show yet, whose userName is taken: creating it answers 409 uniqueness.
    server.store.users.set('i1', { id: 'i1', userName: 'ivan@example.com', active: true, hidden: true });
    server.store.busy = 1;
    server.store.requests.length = 0;
    const run = await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env });
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(server.store.requests.slice(0, 2)).toEqual([
      'GET /scim/v2/ServiceProviderConfig',
      'GET /scim/v2/ServiceProviderConfig',
    ]);
    expect(server.store.requests.slice(-3)).toEqual([
      'POST /scim/v2/Users',
      'GET /scim/v2/Users',
      'PATCH /scim/v2/Users/i1',
    ]);
    expect(user('ivan@example.com')!.roles?.map((r) => r.value)).toEqual(['Rep']);
  });
});
