import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/cli/import.js';
import scim from '../../src/connectors/scim/meta.js';
import { TransientError } from '../../src/connectors/types.js';
import { ManualClock } from '../../src/model/clock.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';
import { type LimitsServer, startLimitsServer } from '../helpers/scim-limits-server.js';

const NOW = '2026-11-27T12:00:00Z';
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const PEOPLE = `people:
  - { id: ana, name: Ana Diaz, email: ana@example.com }
  - { id: ben, name: Ben Ito, email: ben@example.com }
  - { id: carl, name: Carl Berg, email: carl@example.com }
  - { id: dana, name: Dana Roy, email: dana@example.com }
  - { id: erin, name: Erin Wolfe, email: erin@example.com }
`;

let server: LimitsServer;
beforeEach(async () => {
  // The service's clock agrees with the run's: a Retry-After date is read as the service meant it.
  server = await startLimitsServer({ now: () => TEST_NOW, pageSize: 2 });
});
afterEach(() => server.stop());

function app(extra = '', entitlements = '  - { id: viewer, kind: role, role: Viewer }\n') {
  return `name: Limits\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: T${extra} }\nentitlements:\n${entitlements}`;
}
function repo(files: Record<string, string>): string {
  const dir = writeTree({ 'grants/_settings.yaml': NO_VERIFY, 'grants/_people.yaml': PEOPLE, ...files });
  commitAll(dir, 'limits');
  return dir;
}
const env = () => ({ T: server.token });
const grant = (user: string, permissions: string) => `user: ${user}\napp: l\npermissions: [${permissions}]\n`;
const apply = (dir: string, retry = FAST) =>
  runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env: env(), retry });
async function plan(dir: string): Promise<{ plan: Plan; stderr: string }> {
  const run = await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], {
    env: env(),
    retry: FAST,
  });
  return { plan: JSON.parse(run.stdout) as Plan, stderr: run.stderr };
}
const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);
const user = (userName: string) =>
  [...server.store.users.values()].find((u) => String(u.userName) === userName) as
    | (Record<string, unknown> & {
        id: string;
        active: boolean;
        externalId?: string;
        roles?: { value: string }[];
      })
    | undefined;

describe('scim connector against a service with the limits of large identity services', () => {
  it('abandons a request never answered after timeoutMs: that change fails with the reason, the rest go on, the run lets go', async () => {
    const dir = repo({
      'grants/l/_app.yaml': app(', timeoutMs: 1000'),
      'grants/l/ana.yaml': grant('ana', 'viewer'),
      'grants/l/ben.yaml': grant('ben', 'viewer'),
    });
    // Creating ben's User is never answered; the connection stays open, as behind a stuck proxy.
    server.faults.hang = (request, body) => request === 'POST /Users' && body.includes('ben@example.com');
    const run = await apply(dir, { attempts: 2, baseMs: 1, maxMs: 2 });
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 1 failed.');
    expect(run.stdout).toMatch(
      /failed +ben +l +viewer +provisioning ben@example\.com: POST \/Users: no answer within 1 s \(after 2 attempts\)/,
    );
    expect(user('ana@example.com')).toMatchObject({ active: true, roles: [{ value: 'Viewer' }] });
    // Both attempts were abandoned, and the run's lock was let go.
    expect(server.requests.filter((r) => r === 'POST /Users')).toHaveLength(3);
    expect(existsSync(join(dir, '.iden', 'lock'))).toBe(false);
  });

  it('waits as a 429 says, its Retry-After an HTTP date, and rides out a lost connection and a burst of 5xx', async () => {
    const dir = repo({
      'grants/l/_app.yaml': app(),
      'grants/l/ana.yaml': grant('ana', 'viewer'),
    });
    const clock = new ManualClock(TEST_NOW);
    const session = await (await scim.load()).open(
      {
        id: 'l',
        file: {
          name: 'Limits',
          connector: { type: 'scim', baseUrl: server.url, tokenEnv: 'T' },
          entitlements: [{ id: 'viewer', kind: 'role', role: 'Viewer' }],
        } as never,
      },
      { repoRoot: dir, env: env(), lockTimeoutMs: 0, clock },
    );
    server.faults.throttle = 1;
    server.faults.retryAfterS = 7;
    const refused = await session.observe().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransientError);
    expect((refused as TransientError).retryAfterMs).toBe(7000);
    expect((refused as Error).message).toContain('GET /ServiceProviderConfig: 429: Rate limit exceeded');
    await session.close();

    // Through a run: a connection lost, throttled twice, then 503, 502 and a 500 that says when to come back;
    // all retried.
    server.faults.drop = 1;
    server.faults.throttle = 2;
    server.faults.burst = [503, 502, 500];
    const run = await apply(dir, { attempts: 8, baseMs: 1, maxMs: 2 });
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(user('ana@example.com')?.roles).toEqual([{ value: 'Viewer' }]);
  });
});

describe('scim connector: whose Users, on a service with the limits of large identity services', () => {
  const importJson = async (dir: string, ...extra: string[]) => {
    const run = await runCli(
      ['import', '--repo', dir, '--app', 'l', '--at', NOW, '--format', 'json', ...extra],
      {
        env: env(),
        retry: FAST,
      },
    );
    return JSON.parse(run.stdout) as ImportResult;
  };

  it('imports Users it did not create, then plans nothing; a grant and a revocation change only their access, never the User', async () => {
    const finance = server.addGroup('Finance');
    const engineering = server.addGroup('Engineering');
    // carl's User was made by another identity system (its externalId is that system's), dana's and erin's by hand.
    server.addUser({
      userName: 'carl@example.com',
      externalId: 'okta-00u1',
      roles: [{ value: 'Viewer' }, { value: 'Billing Admin' }],
    });
    const dana = server.addUser({ userName: 'dana@example.com', roles: [{ value: 'Viewer' }] });
    const erin = server.addUser({ userName: 'erin@example.com', roles: [{ value: 'Viewer' }] });
    server.store.groups.get(finance)!.members = [{ value: dana.id }];
    server.store.groups.get(engineering)!.members = [{ value: erin.id }];
    const entitlements =
      '  - { id: viewer, kind: role, role: Viewer }\n  - { id: editor, kind: role, role: Editor }\n  - { id: eng, kind: group, group: Engineering }\n';
    const dir = repo({ 'grants/l/_app.yaml': app('', entitlements) });

    const imported = await importJson(dir, '--adopt');
    expect(imported.written).toEqual(['grants/l/carl.yaml', 'grants/l/dana.yaml', 'grants/l/erin.yaml']);
    expect(imported.unowned).toEqual(['carl@example.com', 'dana@example.com', 'erin@example.com']);
    expect(readFileSync(join(dir, 'grants/l/_app.yaml'), 'utf8')).toContain(
      'adopt:\n  - carl@example.com\n  - dana@example.com\n  - erin@example.com\n',
    );
    commitAll(dir, 'imported, handed over');
    // What the import wrote is what the service holds: nothing to do, on every run.
    expect(brief((await plan(dir)).plan)).toEqual([]);

    // carl is given Editor: the value is added, his User is otherwise untouched (another system's externalId stays).
    writeTree({ 'grants/l/carl.yaml': grant('carl', 'viewer, editor') }, dir);
    commitAll(dir, 'carl edits');
    expect((await apply(dir)).stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(user('carl@example.com')).toMatchObject({
      externalId: 'okta-00u1',
      active: true,
      roles: [{ value: 'Viewer' }, { value: 'Billing Admin' }, { value: 'Editor' }],
    });
    expect(brief((await plan(dir)).plan)).toEqual([]);
    // Applying again changes nothing: no value is appended twice.
    expect((await apply(dir)).stdout).toContain('Plan: 0 to grant, 0 to revoke');
    expect(user('carl@example.com')!.roles).toHaveLength(3);

    // Everything managed goes. carl keeps his User and its externalId (not iden's: another system marked it);
    // dana, adopted and marked, is left active: she is in Finance, which iden does not manage; erin, adopted and
    // holding nothing else, is deactivated.
    rmSync(join(dir, 'grants/l/carl.yaml'));
    rmSync(join(dir, 'grants/l/dana.yaml'));
    rmSync(join(dir, 'grants/l/erin.yaml'));
    commitAll(dir, 'access ends');
    const ended = await apply(dir);
    expect(ended.stdout).toContain('Applied: 0 granted, 5 revoked, 0 unchanged, 0 failed.');
    expect(ended.stderr).toContain(
      'dana@example.com keeps its User active: it holds access iden does not manage (groups "Finance")',
    );
    expect(user('carl@example.com')).toMatchObject({
      externalId: 'okta-00u1',
      active: true,
      roles: [{ value: 'Billing Admin' }],
    });
    expect(user('dana@example.com')).toMatchObject({ externalId: 'dana', active: true });
    expect(user('dana@example.com')!.roles ?? []).toEqual([]);
    expect(user('erin@example.com')).toMatchObject({ externalId: 'erin', active: false });
    expect(server.store.groups.get(engineering)!.members).toEqual([]);
    expect(brief((await plan(dir)).plan)).toEqual([]);
  });

  it('sees a User deactivated by hand: repairs its own, and says why it will not reactivate one it did not create', async () => {
    server.addUser({ userName: 'carl@example.com', roles: [{ value: 'Viewer' }] });
    const dir = repo({
      'grants/l/_app.yaml': app(),
      'grants/l/ana.yaml': grant('ana', 'viewer'),
      'grants/l/carl.yaml': grant('carl', 'viewer'),
    });
    expect((await apply(dir)).stdout).toContain('Applied: 1 granted');
    expect(brief((await plan(dir)).plan)).toEqual([]);
    // An admin deactivates both in the service's console; the grants still give them access.
    server.deactivate('ana@example.com');
    server.deactivate('carl@example.com');
    expect(brief((await plan(dir)).plan)).toEqual([
      'grant ana viewer login-disabled',
      'grant carl viewer login-disabled',
    ]);
    const run = await apply(dir);
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 1 failed.');
    expect(run.stdout).toContain(
      "carl@example.com's User was deactivated outside iden and iden did not create it, so iden does not reactivate it: activate it in the app, or list it in grants/l/_app.yaml adopt: (iden import --adopt) for iden to take it over",
    );
    expect(user('ana@example.com')).toMatchObject({
      active: true,
      externalId: 'ana',
      roles: [{ value: 'Viewer' }],
    });
    expect(user('carl@example.com')).toMatchObject({ active: false, roles: [{ value: 'Viewer' }] });
    expect(user('carl@example.com')!.externalId).toBeUndefined();
    expect(brief((await plan(dir)).plan)).toEqual(['grant carl viewer login-disabled']);
  });

  it('leaves out a retired mapping whose group cannot be found, so fixing a typo as iden advises unblocks the app', async () => {
    server.addGroup('Engineering');
    const dir = repo({
      'grants/l/_app.yaml': app('', '  - { id: eng, kind: group, group: Engineerng }\n'),
      'grants/l/ana.yaml': grant('ana', 'eng'),
    });
    // A run applied that version (skipping the app, and recording that it did): its mapping was iden's.
    await apply(dir);
    const typo = (await plan(dir)).plan;
    expect(typo.skipped[0]!.reason).toContain(
      `no group named "Engineerng" (entitlement eng); create it in the app, or correct the group's name in grants/l/_app.yaml`,
    );
    writeTree({ 'grants/l/_app.yaml': app('', '  - { id: eng, kind: group, group: Engineering }\n') }, dir);
    commitAll(dir, 'the group is Engineering');
    const fixed = await plan(dir);
    expect(fixed.plan.skipped).toEqual([]);
    expect(brief(fixed.plan)).toEqual(['grant ana eng new-grant']);
    expect(fixed.stderr).toContain(
      'no group named "Engineerng", which eng mapped to before _app.yaml changed: nothing there to revoke, left out',
    );
    expect((await apply(dir)).stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
  });
});
