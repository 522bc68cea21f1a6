import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/cli/import.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { startBetterAuthScim } from '../helpers/better-auth-scim.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';
import { addGroup, setBulkSupported, startScimServer } from '../helpers/scim-server.js';

const NOW = '2026-11-27T12:00:00Z';
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
type User = {
  id: string;
  userName: string;
  active?: boolean;
  externalId?: string;
  roles?: { value: string }[];
  entitlements?: { value: string }[];
};

const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);
function cli(env: NodeJS.ProcessEnv) {
  return {
    apply: (dir: string) =>
      runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env, retry: FAST }),
    plan: async (dir: string) =>
      brief(
        JSON.parse(
          (await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], { env, retry: FAST }))
            .stdout,
        ) as Plan,
      ),
    import: async (dir: string, ...extra: string[]) =>
      JSON.parse(
        (
          await runCli(['import', '--repo', dir, '--app', 's', '--at', NOW, '--format', 'json', ...extra], {
            env,
            retry: FAST,
          })
        ).stdout,
      ) as ImportResult,
  };
}

describe('whose Users, through /Bulk on SCIMMY', () => {
  let server: Awaited<ReturnType<typeof startScimServer>>;
  beforeAll(async () => {
    server = await startScimServer();
    setBulkSupported(true);
  });
  afterAll(async () => {
    setBulkSupported(false);
    await server.stop();
  });
  const user = (name: string) =>
    [...server.store.users.values()].find((u) => u.userName === name) as unknown as User | undefined;

  it('imports Users made by hand and plans nothing; grants and revocations in one bulk request leave the Users as they were', async () => {
    const sales = addGroup('Sales');
    const made = (id: string, userName: string, roles: string[]) =>
      server.store.users.set(id, {
        id,
        userName,
        active: true,
        schemas: [USER],
        roles: roles.map((value) => ({ value })),
      });
    made('h1', 'heidi@example.com', ['Sales Rep']);
    made('i1', 'ivan@example.com', ['Sales Rep', 'Admin']);
    (server.store.groups.get(sales)!.members as { value: string }[]).push({ value: 'h1' });
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml':
        'people:\n  - { id: heidi, name: Heidi Larsen, email: heidi@example.com }\n  - { id: ivan, name: Ivan Petrov, email: ivan@example.com }\n  - { id: jo, name: Jo Park, email: jo@example.com }\n',
      'grants/s/_app.yaml': `name: S\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: T }\nentitlements:\n  - { id: rep, kind: role, role: Sales Rep }\n  - { id: sales, kind: group, group: Sales }\n  - { id: export, kind: permission, entitlement: Reports Export }\n`,
    });
    commitAll(dir, 'sales');
    const run = cli({ T: 'scim-token' });
    const imported = await run.import(dir);
    expect(imported.written).toEqual(['grants/s/heidi.yaml', 'grants/s/ivan.yaml']);
    expect(imported.unowned).toEqual(['heidi@example.com', 'ivan@example.com']);
    // The reviewer hands ivan over, not heidi.
    writeTree(
      {
        'grants/s/_app.yaml': `name: S\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: T }\nentitlements:\n  - { id: rep, kind: role, role: Sales Rep }\n  - { id: sales, kind: group, group: Sales }\n  - { id: export, kind: permission, entitlement: Reports Export }\nadopt: [ivan@example.com]\n`,
      },
      dir,
    );
    commitAll(dir, 'imported');
    expect(await run.plan(dir)).toEqual([]);

    writeTree(
      {
        'grants/s/heidi.yaml': 'user: heidi\napp: s\npermissions: [rep, sales, export]\n',
        'grants/s/ivan.yaml': 'user: ivan\napp: s\npermissions: [rep, export]\n',
        'grants/s/jo.yaml': 'user: jo\napp: s\npermissions: [sales]\n',
      },
      dir,
    );
    commitAll(dir, 'exports, and jo');
    server.store.requests.length = 0;
    expect((await run.apply(dir)).stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(server.store.requests.filter((r) => r.startsWith('POST') || r.startsWith('PATCH'))).toEqual([
      'POST /scim/v2/Bulk',
    ]);
    // heidi is not handed over: her User gets the value, not iden's mark. ivan is: marked, his own id kept.
    expect(user('heidi@example.com')).toMatchObject({ entitlements: [{ value: 'Reports Export' }] });
    expect(user('heidi@example.com')!.externalId).toBeUndefined();
    expect(user('ivan@example.com')).toMatchObject({ id: 'i1', externalId: 'ivan' });
    expect(user('jo@example.com')).toMatchObject({ externalId: 'jo', active: true });
    expect(await run.plan(dir)).toEqual([]);
    expect((await run.apply(dir)).stdout).toContain('Plan: 0 to grant, 0 to revoke');
    expect(user('heidi@example.com')!.roles).toEqual([{ value: 'Sales Rep' }]);

    // Their grants are deleted: the access goes, in one request; neither User is deactivated (heidi is not iden's,
    // ivan still holds Admin, which iden does not manage), and no externalId changes.
    rmSync(join(dir, 'grants/s/heidi.yaml'));
    rmSync(join(dir, 'grants/s/ivan.yaml'));
    commitAll(dir, 'heidi and ivan leave sales');
    server.store.requests.length = 0;
    const ended = await run.apply(dir);
    expect(ended.stdout).toContain('Applied: 0 granted, 5 revoked, 0 unchanged, 0 failed.');
    expect(ended.stderr).toContain(
      'ivan@example.com keeps its User active: it holds access iden does not manage (roles "Admin")',
    );
    expect(server.store.requests.at(-1)).toBe('POST /scim/v2/Bulk');
    expect(user('heidi@example.com')).toMatchObject({ active: true });
    expect(user('heidi@example.com')!.roles ?? []).toEqual([]);
    expect(user('heidi@example.com')!.externalId).toBeUndefined();
    expect(user('ivan@example.com')).toMatchObject({
      active: true,
      externalId: 'ivan',
      roles: [{ value: 'Admin' }],
    });
    expect(server.store.groups.get(sales)!.members).toEqual([{ value: user('jo@example.com')!.id }]);
    expect(await run.plan(dir)).toEqual([]);
  });
});

describe('whose Users, on better-auth', () => {
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

  it('never overwrites an adopted User externalId nor deactivates it while it holds other access; repairs its own deactivated User', async () => {
    await call('POST', '/Users', {
      schemas: [USER],
      userName: 'kim@example.com',
      externalId: 'okta-00ukim',
      name: { givenName: 'Kim', familyName: 'Yoon' },
      emails: [{ value: 'kim@example.com', primary: true }],
      roles: [{ value: 'Sales Rep' }, { value: 'Admin' }],
    });
    const app = (adopt: string) =>
      `name: B\nconnector: { type: scim, baseUrl: ${ba.url}, tokenEnv: BA }\nentitlements:\n  - { id: rep, kind: role, role: Sales Rep }\n  - { id: export, kind: permission, entitlement: Reports Export }\n${adopt}`;
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml':
        'people:\n  - { id: kim, name: Kim Yoon, email: kim@example.com }\n  - { id: lee, name: Lee Park, email: lee@example.com }\n',
      'grants/s/_app.yaml': app(''),
      'grants/s/lee.yaml': 'user: lee\napp: s\npermissions: [rep]\n',
    });
    commitAll(dir, 'b');
    const run = cli({ BA: ba.token });
    const imported = await run.import(dir, '--adopt');
    expect(imported.written).toEqual(['grants/s/kim.yaml']);
    expect(imported.adopt).toEqual(['kim@example.com']);
    commitAll(dir, 'kim imported and handed over');
    expect(await run.plan(dir)).toEqual(['grant lee rep new-grant']);

    writeTree({ 'grants/s/kim.yaml': 'user: kim\napp: s\npermissions: [rep, export]\n' }, dir);
    commitAll(dir, 'kim exports');
    expect((await run.apply(dir)).stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(await find('kim@example.com')).toMatchObject({
      externalId: 'okta-00ukim',
      active: true,
      entitlements: [{ value: 'Reports Export' }],
    });
    expect(await run.plan(dir)).toEqual([]);

    // kim's grant is deleted: the values go, the User stays active (it holds Admin) with its externalId.
    rmSync(join(dir, 'grants/s/kim.yaml'));
    commitAll(dir, 'kim leaves');
    expect((await run.apply(dir)).stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect(await find('kim@example.com')).toMatchObject({
      externalId: 'okta-00ukim',
      active: true,
      roles: [{ value: 'Admin' }],
    });
    expect(await run.plan(dir)).toEqual([]);

    // lee's User, made by iden, is deactivated by hand: seen, and repaired.
    const lee = (await find('lee@example.com'))!;
    await call('PATCH', `/Users/${lee.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(await run.plan(dir)).toEqual(['grant lee rep login-disabled']);
    expect((await run.apply(dir)).stdout).toContain('Applied: 1 granted');
    expect(await find('lee@example.com')).toMatchObject({ active: true, roles: [{ value: 'Sales Rep' }] });
    expect(await run.plan(dir)).toEqual([]);
  });
});
