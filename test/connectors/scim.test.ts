import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { startBetterAuthScim } from '../helpers/better-auth-scim.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';
import {
  addGroup,
  setBulkSupported,
  setEtagSupported,
  setPatchSupported,
  startScimServer,
} from '../helpers/scim-server.js';

const NOW = '2026-11-27T12:00:00Z';
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
let server: Awaited<ReturnType<typeof startScimServer>>;

beforeAll(async () => {
  server = await startScimServer();
});
afterAll(() => server.stop());

function repo(url: string): string {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:
  - { id: heidi, name: Heidi Larsen, email: heidi@example.com }
  - { id: grace, name: Grace Kim, email: grace@example.com, givenName: Grace Soo-ah, familyName: Kim }
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
prune: true
adopt: [Bob.Okafor@example.com]
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
async function plan(dir: string, at = NOW, environment: NodeJS.ProcessEnv = env): Promise<Plan> {
  return JSON.parse(
    (await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], { env: environment })).stdout,
  ) as Plan;
}
const apply = (dir: string, at = NOW, environment: NodeJS.ProcessEnv = env) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push'], { env: environment, retry: FAST });

type User = {
  id: string;
  active: boolean;
  externalId?: string;
  userName: string;
  displayName?: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails?: { value: string }[];
  roles?: { value: string }[];
  entitlements?: { value: string }[];
};
const user = (name: string) =>
  [...server.store.users.values()].find((u) => String(u.userName).toLowerCase() === name.toLowerCase()) as
    | User
    | undefined;
const members = (group: string) =>
  ((server.store.groups.get(group)!.members ?? []) as { value: string }[]).map((m) => m.value).sort();

/** Every remove operation sent, to check none is unfiltered (that removes every value on a conformant service). */
const removes = () =>
  server.store.bodies.flatMap((b) =>
    ((b.body as { Operations?: { op: string; path?: string }[] })?.Operations ?? []).filter(
      (o) => o.op === 'remove',
    ),
  );

describe('scim connector against SCIMMY, a SCIM 2.0 implementation nobody here wrote', () => {
  it('creates Users with names, email and its mark, joins groups, sets roles and entitlements; the end deactivates', async () => {
    const sales = addGroup('Sales');
    // bob already exists, deactivated, made by someone else, and _app.yaml's adopt: hands him over:
    // his grant marks and reactivates him.
    server.store.users.set('b1', {
      id: 'b1',
      userName: 'bob.okafor@example.com',
      active: false,
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    });
    const dir = repo(server.url);
    server.store.requests.length = 0;
    const applied = await apply(dir);
    expect(applied.stdout).toContain('Applied: 8 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(applied.code).toBe(0);
    const heidi = user('heidi@example.com')!;
    expect(heidi).toMatchObject({
      active: true,
      externalId: 'heidi',
      displayName: 'Heidi Larsen',
      name: { givenName: 'Heidi', familyName: 'Larsen', formatted: 'Heidi Larsen' },
      emails: [{ value: 'heidi@example.com', primary: true, type: 'work' }],
      roles: [{ value: 'Sales Rep' }],
      entitlements: [{ value: 'Salesforce' }],
    });
    expect(user('grace@example.com')!.name).toMatchObject({ givenName: 'Grace Soo-ah', familyName: 'Kim' });
    expect(user('bob.okafor@example.com')).toMatchObject({ id: 'b1', active: true, externalId: 'bob' });
    expect(members(sales)).toEqual([heidi.id, user('grace@example.com')!.id].sort());
    // The config, the Users (a second page proves the end: SCIMMY ignores startIndex), the group by filter;
    // one request per User changed (a new one created with its roles and entitlements); one PATCH for the group.
    expect(server.store.requests).toEqual([
      'GET /scim/v2/ServiceProviderConfig',
      'GET /scim/v2/Users',
      'GET /scim/v2/Users',
      'GET /scim/v2/Groups',
      'PATCH /scim/v2/Users/b1',
      'POST /scim/v2/Users',
      'POST /scim/v2/Users',
      `PATCH /scim/v2/Groups/${sales}`,
    ]);
    expect(brief(await plan(dir))).toEqual([]);

    // Someone added to the managed group by hand, never provisioned by iden: not drift, never pruned.
    server.store.users.set('m1', { id: 'm1', userName: 'mallory@example.com', active: true });
    (server.store.groups.get(sales)!.members as { value: string }[]).push({ value: 'm1' });
    const withMallory = await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], { env });
    expect((JSON.parse(withMallory.stdout) as Plan).changes).toEqual([]);
    expect(withMallory.stderr).toContain(
      "notice: sf: 1 User that iden did not create and that is no one's account in grants/_people.yaml holds managed access: left alone (mallory@example.com)",
    );

    // Past grace's end: everything she had goes, one filtered remove each, then her User is deactivated.
    server.store.bodies.length = 0;
    const later = await apply(dir, '2027-01-02T00:00:00Z');
    expect(later.stdout).toContain('Applied: 0 granted, 3 revoked');
    const grace = user('grace@example.com')!;
    expect(grace.active).toBe(false);
    expect(grace.entitlements ?? []).toEqual([]);
    expect(members(sales)).toEqual([heidi.id, 'm1'].sort());
    expect(removes().map((o) => o.path)).toEqual([
      `members[value eq "${grace.id}"]`,
      'entitlements[value eq "Reports Export"]',
      'entitlements[value eq "Salesforce"]',
    ]);
    expect(user('mallory@example.com')!.active).toBe(true);
    expect(brief(await plan(dir, '2027-01-02T00:00:00Z'))).toEqual([]);
  });

  it('reads every page, reads to the end when totalResults miscounts, and never uses a partial read', async () => {
    const team = addGroup('Everyone');
    const people = Array.from({ length: 125 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: P ${p}, email: ${p}@example.com }\n`).join('')}`,
      'grants/e/_app.yaml': `name: E\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: all, kind: group, group: Everyone }\n`,
      ...Object.fromEntries(
        people.map((p) => [`grants/e/${p}.yaml`, `user: ${p}\napp: e\npermissions: [all]\n`]),
      ),
    });
    commitAll(dir, 'everyone');
    expect((await apply(dir)).code).toBe(0);
    expect(members(team)).toHaveLength(125);
    server.store.quirks.pageSize = 50;
    expect(brief(await plan(dir))).toEqual([]);
    // A scim2-models server answered totalResults with the page's size: read on until a short page.
    server.store.quirks.totalIsPageSize = true;
    const miscounted = await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], { env });
    expect((JSON.parse(miscounted.stdout) as Plan).changes).toEqual([]);
    expect(miscounted.stderr).toMatch(
      /GET \/Users says (\d+) in all \(totalResults\) but listed (\d+): read to the end/,
    );
    // Past page 2 the service lists nothing, though it says it has 125: the app is skipped, never read as 100.
    server.store.quirks.totalIsPageSize = false;
    server.store.quirks.listOnly = 100;
    const partial = await plan(dir);
    expect(partial.skipped[0]!.reason).toMatch(
      /listed 100 of the \d+ the service says it has: a partial read is never used/,
    );
    expect(partial.changes).toEqual([]);
    server.store.quirks = {};
  });

  it('finds a group whose name breaks the filter parser by listing the groups', async () => {
    const odd = addGroup('R&D "core" \\ team');
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': 'people:\n  - { id: ana, name: Ana Diaz, email: ana@example.com }\n',
      'grants/r/_app.yaml': `name: R\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: core, kind: group, group: 'R&D "core" \\ team' }\n`,
      'grants/r/ana.yaml': 'user: ana\napp: r\npermissions: [core]\n',
    });
    commitAll(dir, 'ana');
    // scim2-filter-parser answered such a filter with 500.
    server.store.quirks.filterQuotesFail = true;
    try {
      const run = await apply(dir);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain("the service's filter failed on");
      expect(run.stderr).toContain('found it by listing every group');
      expect(members(odd)).toEqual([user('ana@example.com')!.id]);
    } finally {
      server.store.quirks = {};
    }
  });

  it('retries an outage page (503 with HTML) and a 429, and adopts the User a 409 says exists', async () => {
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': 'people:\n  - { id: ivan, name: Ivan Petrov, email: ivan@example.com }\n',
      'grants/sf/_app.yaml': `name: S\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: rep, kind: role, role: Rep }\nadopt: [ivan@example.com]\n`,
      'grants/sf/ivan.yaml': 'user: ivan\napp: sf\npermissions: [rep]\n',
    });
    commitAll(dir, 'ivan');
    // A User the listing does not show yet, whose userName is taken: creating it answers 409 uniqueness.
    server.store.users.set('i1', { id: 'i1', userName: 'ivan@example.com', active: true, hidden: true });
    server.store.quirks.htmlOutage = 1;
    server.store.busy = 1;
    server.store.requests.length = 0;
    const run = await apply(dir);
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(run.stderr).not.toContain('Unexpected token');
    expect(server.store.requests.slice(0, 3)).toEqual([
      'GET /scim/v2/ServiceProviderConfig',
      'GET /scim/v2/ServiceProviderConfig',
      'GET /scim/v2/ServiceProviderConfig',
    ]);
    expect(server.store.requests.slice(-3)).toEqual([
      'POST /scim/v2/Users',
      'GET /scim/v2/Users',
      'PATCH /scim/v2/Users/i1',
    ]);
    expect(user('ivan@example.com')).toMatchObject({ roles: [{ value: 'Rep' }], externalId: 'ivan' });
    server.store.quirks = {};
  });

  it('without PATCH, replaces whole resources from a fresh read, with If-Match, and keeps an edit made meanwhile', async () => {
    const plain = await startScimServer();
    // scimmy-routers declares PATCH support when it is built, so this comes after.
    setPatchSupported(false);
    setEtagSupported(true);
    plain.store.quirks.etags = true;
    try {
      const group = addGroup('Team');
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  - { id: kim, name: Kim Yoon, email: kim@example.com, accounts: { t: kyoon } }\n  - { id: lee, name: Lee Park, email: lee@example.com }\n',
        'grants/t/_app.yaml': `name: T\nconnector: { type: scim, baseUrl: ${plain.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: team, kind: group, group: Team }\n  - { id: viewer, kind: role, role: Viewer }\n`,
        'grants/t/kim.yaml': 'user: kim\napp: t\npermissions: [team, viewer]\n',
        'grants/t/lee.yaml': 'user: lee\napp: t\npermissions: [team]\n',
      });
      commitAll(dir, 'team');
      expect((await apply(dir)).code).toBe(0);
      // kim's account is no email: the User still gets the email _people.yaml gives.
      expect(user('kyoon')).toMatchObject({
        emails: [{ value: 'kim@example.com' }],
        name: { familyName: 'Yoon' },
      });
      // Someone adds a member by hand after iden read the group: the PUT starts from a fresh read and keeps them.
      plain.store.users.set('x1', { id: 'x1', userName: 'xavier@example.com', active: true });
      (plain.store.groups.get(group)!.members as { value: string }[]).push({ value: 'x1' });
      writeTree(
        {
          'grants/t/kim.yaml': 'user: kim\napp: t\npermissions: [viewer]\n',
          'grants/t/lee.yaml': 'user: lee\napp: t\npermissions: [team, viewer]\n',
        },
        dir,
      );
      commitAll(dir, 'kim leaves the team; lee views');
      plain.store.bodies.length = 0;
      const put = await apply(dir);
      expect(put.stdout).toContain('Applied: 1 granted, 1 revoked, 0 unchanged, 0 failed.');
      expect(plain.store.requests.filter((r) => r.startsWith('PATCH'))).toEqual([]);
      expect(plain.store.bodies.map((b) => `${b.method} ${b.path} ${b.ifMatch ?? '-'}`)).toEqual([
        expect.stringMatching(/^PUT \/scim\/v2\/Users\/.+ W\/"\d+"$/),
        expect.stringMatching(/^PUT \/scim\/v2\/Groups\/.+ W\/"\d+"$/),
      ]);
      expect(user('lee@example.com')!.roles).toEqual([{ value: 'Viewer' }]);
      const after = (plain.store.groups.get(group)!.members as { value: string }[])
        .map((m) => m.value)
        .sort();
      expect(after).toEqual([user('lee@example.com')!.id, 'x1'].sort());
    } finally {
      setPatchSupported(true);
      setEtagSupported(false);
      await plain.stop();
    }
  });

  it('sends a run in one /Bulk request where the service supports it, new Users referenced by bulkId', async () => {
    const plain = await startScimServer();
    setBulkSupported(true);
    try {
      const group = addGroup('Ops');
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  - { id: oli, name: Oli Ray, email: oli@example.com }\n  - { id: pat, name: Pat Lo, email: pat@example.com }\n',
        'grants/o/_app.yaml': `name: O\nconnector: { type: scim, baseUrl: ${plain.url}, tokenEnv: SF_TOKEN }\nentitlements:\n  - { id: ops, kind: group, group: Ops }\n  - { id: pager, kind: permission, entitlement: Pager }\n`,
        'grants/o/oli.yaml': 'user: oli\napp: o\npermissions: [ops, pager]\n',
        'grants/o/pat.yaml': 'user: pat\napp: o\npermissions: [ops]\nend: 2027-01-01\n',
      });
      commitAll(dir, 'ops');
      const run = await apply(dir);
      expect(run.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(plain.store.requests).toEqual([
        'GET /scim/v2/ServiceProviderConfig',
        'GET /scim/v2/Users',
        'GET /scim/v2/Groups',
        'POST /scim/v2/Bulk',
      ]);
      expect(members(group)).toEqual([user('oli@example.com')!.id, user('pat@example.com')!.id].sort());
      expect(user('oli@example.com')).toMatchObject({
        entitlements: [{ value: 'Pager' }],
        externalId: 'oli',
      });
      expect(brief(await plan(dir))).toEqual([]);
      // Pat's end: out of the group and deactivated, in one request again.
      plain.store.requests.length = 0;
      const later = await apply(dir, '2027-01-02T00:00:00Z');
      expect(later.stdout).toContain('Applied: 0 granted, 1 revoked');
      expect(plain.store.requests.at(-1)).toBe('POST /scim/v2/Bulk');
      expect(user('pat@example.com')!.active).toBe(false);
    } finally {
      setBulkSupported(false);
      await plain.stop();
    }
  });

  it('refuses the value-array remove form, which empties a group on a conformant service', async () => {
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': 'people:\n  - { id: ana, name: Ana Diaz, email: ana@example.com }\n',
      'grants/v/_app.yaml': `name: V\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN, removeForm: value-array }\nentitlements:\n  - { id: t, kind: group, group: T }\n`,
    });
    const result = await runCli(['validate', '--repo', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /grants\/v\/_app\.yaml:2:\d+ error invalid-field: "connector\.removeForm" must be one of filter, replace/,
    );
  });
});

describe('scim connector against better-auth, a second SCIM implementation nobody here wrote', () => {
  let ba: Awaited<ReturnType<typeof startBetterAuthScim>>;
  beforeAll(async () => {
    ba = await startBetterAuthScim();
  });
  afterAll(() => ba.stop());

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${ba.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ba.token}`, 'content-type': 'application/scim+json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as T;
  };
  const find = async (userName: string) =>
    (await call<{ Resources: User[] }>('GET', '/Users?count=100')).Resources.find(
      (u) => u.userName === userName,
    );

  it('creates, groups, roles, entitlements, deactivates and reactivates; writes lists whole where filtered paths are refused', async () => {
    const group = await call<{ id: string }>('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Sales',
    });
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml':
        'people:\n  - { id: kim, name: Kim Yoon, email: kim@example.com }\n  - { id: lee, name: Lee Park, email: lee@example.com }\n',
      'grants/b/_app.yaml': `name: B\nconnector: { type: scim, baseUrl: ${ba.url}, tokenEnv: BA_TOKEN }\nentitlements:\n  - { id: sales, kind: group, group: Sales }\n  - { id: rep, kind: role, role: Sales Rep }\n  - { id: export, kind: permission, entitlement: Reports Export }\n`,
      'grants/b/kim.yaml': 'user: kim\napp: b\npermissions: [sales, rep, export]\n',
      'grants/b/lee.yaml': 'user: lee\napp: b\npermissions: [sales, rep]\nend: 2027-01-01\n',
    });
    commitAll(dir, 'sales');
    const environment = { BA_TOKEN: ba.token };
    const first = await apply(dir, NOW, environment);
    expect(first.stdout).toContain('Applied: 5 granted, 0 revoked, 0 unchanged, 0 failed.');
    const kim = (await find('kim@example.com'))!;
    expect(kim).toMatchObject({
      externalId: 'kim',
      active: true,
      roles: [{ value: 'Sales Rep' }],
      entitlements: [{ value: 'Reports Export' }],
      name: { givenName: 'Kim', familyName: 'Yoon' },
    });
    const sales = await call<{ members?: { value: string }[] }>('GET', `/Groups/${group.id}`);
    expect((sales.members ?? []).map((m) => m.value).sort()).toEqual(
      [kim.id, (await find('lee@example.com'))!.id].sort(),
    );
    expect(brief(await plan(dir, NOW, environment))).toEqual([]);

    // lee's end: better-auth refuses roles[value eq …] (400 invalidPath): the roles go back whole, and lee is deactivated.
    const later = await apply(dir, '2027-01-02T00:00:00Z', environment);
    expect(later.code).toBe(0);
    expect(later.stdout).toContain('Applied: 0 granted, 2 revoked');
    expect(later.stderr).toContain('the service refused a filtered path');
    expect(later.stderr).toContain('roles and entitlements are written back whole');
    expect(await find('lee@example.com')).toMatchObject({ active: false, roles: [] });
    const after = await call<{ members?: { value: string }[] }>('GET', `/Groups/${group.id}`);
    expect((after.members ?? []).map((m) => m.value)).toEqual([kim.id]);
    expect(brief(await plan(dir, '2027-01-02T00:00:00Z', environment))).toEqual([]);

    // lee comes back: reactivated, not created again.
    writeTree({ 'grants/b/lee.yaml': 'user: lee\napp: b\npermissions: [rep]\n' }, dir);
    commitAll(dir, 'lee is back');
    const back = await apply(dir, '2027-01-02T00:00:00Z', environment);
    expect(back.stdout).toContain('Applied: 1 granted');
    expect(await find('lee@example.com')).toMatchObject({ active: true, roles: [{ value: 'Sales Rep' }] });
    expect(ba.requests.filter((r) => r === 'POST /api/auth/scim/v2/Users')).toHaveLength(2);
    expect(brief(await plan(dir, '2027-01-02T00:00:00Z', environment))).toEqual([]);
  });
});
