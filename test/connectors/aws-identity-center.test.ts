import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { accessRepo, PROD, StepClock, startCenter } from '../helpers/aws-ic-fixture.js';
import { type CenterServer, SECRET_KEY } from '../helpers/aws-ic-server.js';
import { seed } from '../helpers/aws-ic-state.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
let server: CenterServer;

async function center() {
  const started = await startCenter();
  server = started.server;
  return started;
}

const brief = (p: Plan) => p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement} ${c.reason}`);

function cli(args: string[], clock = new StepClock(TEST_NOW), env = server.env()) {
  return runCli(args, { env, retry: FAST, clock });
}
async function plan(dir: string, at = NOW): Promise<Plan> {
  const result = await cli(['plan', '--repo', dir, '--format', 'json', '--at', at]);
  return JSON.parse(result.stdout) as Plan;
}
const apply = (dir: string, at = NOW, clock?: StepClock, env?: NodeJS.ProcessEnv) =>
  cli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push'], clock, env);

describe('aws-identity-center connector against a loopback IAM Identity Center checked against AWS service models', () => {
  afterEach(async () => {
    expect(server.errors).toEqual([]);
    await server.stop();
  });

  it('grants group membership and permission sets in each account, polls them to success, and ends them', async () => {
    const { s, ids, platform, admin, readOnly } = await center();
    const dir = accessRepo(readOnly);
    commitAll(dir, 'aws access');
    expect(brief(await plan(dir))).toEqual([
      'grant alice platform new-grant',
      'grant alice prod-admin new-grant',
      'grant bob readonly new-grant',
    ]);
    const clock = new StepClock(TEST_NOW);
    const run = await apply(dir, NOW, clock);
    expect(run.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(run.code).toBe(0);
    expect([...platform.members.values()].sort()).toEqual([ids.alice, ids.carol].sort());
    for (const account of PROD) expect(s.holds(account, admin, 'USER', ids.alice)).toBe(true);
    expect(s.holds(PROD[0]!, readOnly, 'USER', ids.bob)).toBe(true);
    // Each assignment was read back once after a second's wait on the run's clock, not the calendar.
    expect(server.count('DescribeAccountAssignmentCreationStatus')).toBe(3);
    expect(clock.waited).toBeGreaterThanOrEqual(1000);
    expect(brief(await plan(dir))).toEqual([]);

    // Past alice's end: out of the group, and the permission set removed in both accounts.
    const ended = await apply(dir, '2027-01-02T00:00:00Z');
    expect(ended.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect([...platform.members.values()]).toEqual([ids.carol]);
    for (const account of PROD) expect(s.holds(account, admin, 'USER', ids.alice)).toBe(false);
    expect(server.count('DescribeAccountAssignmentDeletionStatus')).toBe(2);
    expect(brief(await plan(dir, '2027-01-02T00:00:00Z'))).toEqual([]);
  });

  it('changes and revokes; shows drift, and prunes it, partial holdings included; a missing user fails only its change', async () => {
    const { s, ids, platform, admin, readOnly } = await center();
    const dir = accessRepo(readOnly, {
      'grants/aws/zed.yaml': 'user: zed\napp: aws\npermissions: [platform]\n',
    });
    commitAll(dir, 'aws access');
    const first = await apply(dir);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 1 failed.');
    expect(first.stdout).toContain(
      'no user named "zed@example.com" in the Identity Store of aws: iden never creates users',
    );
    // bob moves from read-only to admin: the new grant first, then the old one goes.
    writeTree({ 'grants/aws/bob.yaml': 'user: bob\napp: aws\npermissions: [prod-admin]\n' }, dir);
    rmSync(join(dir, 'grants/aws/carol.yaml'));
    rmSync(join(dir, 'grants/aws/zed.yaml'));
    commitAll(dir, 'bob administers; carol leaves');
    expect(brief(await plan(dir))).toEqual([
      'grant bob prod-admin changed',
      'revoke bob readonly changed',
      'revoke carol platform removed',
    ]);
    expect((await apply(dir)).stdout).toContain('Applied: 1 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect(s.holds(PROD[0]!, readOnly, 'USER', ids.bob)).toBe(false);
    expect(PROD.every((a) => s.holds(a, admin, 'USER', ids.bob))).toBe(true);
    expect([...platform.members.values()]).toEqual([ids.alice]);

    // mallory is added to the group by hand and given admin in one account: drift, kept without prune.
    platform.members.set('9067aaaaaa-00000000-0000-4000-8000-000000000001', ids.mallory);
    s.assign(PROD[1]!, admin, 'USER', ids.mallory);
    const drifted = await plan(dir);
    expect(brief(drifted)).toEqual([]);
    expect(drifted.drift.map((d) => `${d.account} ${d.entitlement}`)).toEqual([
      'mallory@example.com platform',
      'mallory@example.com prod-admin',
    ]);
    writeTree(
      { 'grants/aws/_app.yaml': readFileSync(join(dir, 'grants/aws/_app.yaml'), 'utf8') + 'prune: true\n' },
      dir,
    );
    commitAll(dir, 'prune');
    const pruned = await apply(dir);
    expect(pruned.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect([...platform.members.values()]).toEqual([ids.alice]);
    expect(s.holds(PROD[1]!, admin, 'USER', ids.mallory)).toBe(false);
    expect(brief(await plan(dir))).toEqual([]);
  });

  it('reads a group of 2,000 members page by page, and an empty plan costs the paging minimum', async () => {
    const { s, ids, platform, readOnly } = await center();
    const people = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    const userIds = people.map((p) => s.user(`${p}@example.com`));
    // 1,990 are members already; ten are new.
    for (const id of userIds.slice(0, 1990)) platform.members.set(`9067bbbbbb-${crypto.randomUUID()}`, id);
    platform.members.delete([...platform.members].find(([, u]) => u === ids.carol)![0]);
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: P ${p}, email: ${p}@example.com }\n`).join('')}`,
      'grants/aws/_app.yaml': `name: AWS\nconnector: { type: aws-identity-center }\nentitlements:\n  - { id: platform, kind: group, group: Platform Engineers }\n  - { id: readonly, kind: permission-set, permissionSet: '${readOnly}', accounts: ['${PROD[0]}'] }\n`,
      ...Object.fromEntries(
        people.map((p) => [`grants/aws/${p}.yaml`, `user: ${p}\napp: aws\npermissions: [platform]\n`]),
      ),
    });
    commitAll(dir, '2,000 people');
    const run = await apply(dir);
    expect(run.stdout).toContain('Applied: 10 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(platform.members.size).toBe(2000);
    server.calls.length = 0;
    expect(brief(await plan(dir))).toEqual([]);
    // 2,004 users in pages of 100, 2,000 members in pages of 100, one group id and one account's assignments.
    expect(server.tally()).toEqual({
      ListInstances: 1,
      ListUsers: 21,
      GetGroupId: 1,
      ListGroupMemberships: 20,
      ListAccountAssignments: 1,
    });
    // AWS may answer fewer than MaxResults: every page is still followed to the end.
    server.faults.pageCap = 37;
    expect(brief(await plan(dir))).toEqual([]);
    expect(server.count('ListGroupMemberships')).toBe(20 + 55);
  });

  it('goes on through throttling mid-run, waiting as AWS asks, without asking for an assignment twice', async () => {
    const { s, ids, admin, readOnly } = await center();
    const dir = accessRepo(readOnly);
    commitAll(dir, 'aws access');
    server.faults.throttle = { operation: 'DescribeAccountAssignmentCreationStatus', count: 2 };
    const run = await apply(dir);
    expect(run.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
    // Three assignments (alice in two accounts, bob in one): each asked for once, its status read again after the throttling.
    expect(server.count('CreateAccountAssignment')).toBe(3);
    expect(PROD.every((a) => s.holds(a, admin, 'USER', ids.alice))).toBe(true);
    // identitystore's throttling names its wait (Retry-After); a listing throttled is read again, never taken as empty.
    server.faults.throttle = { operation: 'ListGroupMemberships', count: 1, retryAfterSeconds: 2 };
    expect(brief(await plan(dir))).toEqual([]);
    expect(server.faults.throttle.count).toBe(0);
    server.faults.outage = { operation: 'ListUsers', count: 10 };
    const down = await plan(dir);
    expect(down.skipped[0]!.reason).toMatch(
      /^cannot observe: reading IAM Identity Center: InternalServerException \(HTTP 500\): We encountered an internal error\. \(after 5 attempts\)$/,
    );
    expect(down.changes).toEqual([]);
  });

  it('reports an assignment that fails asynchronously against its change, and completes it on the next run', async () => {
    const { s, ids, admin, readOnly } = await center();
    const dir = accessRepo(readOnly);
    commitAll(dir, 'aws access');
    server.faults.failAssignmentIn = new Map([
      [PROD[1]!, 'Received a 403 status error: Not authorized to create the role in the account.'],
    ]);
    const run = await apply(dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 1 failed.');
    expect(run.stdout).toContain(
      `assigning permission set AdministratorAccess to alice@example.com in ${PROD.join(', ')}: in ${PROD[1]} AWS reported FAILED: Received a 403 status error: Not authorized to create the role in the account.`,
    );
    expect(s.holds(PROD[0]!, admin, 'USER', ids.alice)).toBe(true);
    // Held in one of its two accounts: the grant completes it, in the missing account only.
    delete server.faults.failAssignmentIn;
    expect(brief(await plan(dir))).toEqual(['grant alice prod-admin incomplete']);
    server.calls.length = 0;
    expect((await apply(dir)).stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(server.count('CreateAccountAssignment')).toBe(1);
    expect(s.holds(PROD[1]!, admin, 'USER', ids.alice)).toBe(true);

    // One that never settles is waited for within assignmentTimeoutMs, on the run's clock, then reported.
    server.faults.settleAfter = 1_000_000;
    writeTree({ 'grants/aws/carol.yaml': 'user: carol\napp: aws\npermissions: [platform, readonly]\n' }, dir);
    commitAll(dir, 'carol reads');
    const clock = new StepClock(TEST_NOW);
    const slow = await apply(dir, NOW, clock);
    expect(slow.stdout).toMatch(
      /still in progress after 5m \(request [0-9a-f-]{36}\); the next run sees whether it took effect/,
    );
    // Five minutes of status reads (and the pacing of the other requests) on the run's clock.
    expect(clock.waited).toBeGreaterThanOrEqual(300_000);
    expect(clock.waited).toBeLessThan(310_000);
    expect(server.count('DescribeAccountAssignmentCreationStatus')).toBeLessThanOrEqual(65);
  });

  it('stops on credentials AWS refuses, and never prints the secret', async () => {
    const { readOnly } = await center();
    const dir = accessRepo(readOnly);
    commitAll(dir, 'aws access');
    const wrongSecret = await apply(
      dir,
      NOW,
      undefined,
      server.env({ AWS_SECRET_ACCESS_KEY: 'not-the-secret-0000' }),
    );
    expect(wrongSecret.stdout).toContain(
      'InvalidSignatureException (HTTP 403): The request signature we calculated does not match',
    );
    expect(wrongSecret.code).not.toBe(0);
    const unknownKey = await apply(
      dir,
      NOW,
      undefined,
      server.env({ AWS_ACCESS_KEY_ID: 'AKIANOBODY0000000000' }),
    );
    expect(unknownKey.stdout).toContain(
      'UnrecognizedClientException (HTTP 400): The security token included in the request is invalid.',
    );
    // Expired mid-run: the changes under way fail with it, and the app's other changes are not tried.
    const { s: more } = { s: seed(server) };
    const people = Array.from({ length: 8 }, (_, i) => `q${i}`);
    for (const p of people) more.user(`${p}@example.com`);
    const many = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: Q ${p}, email: ${p}@example.com }\n`).join('')}`,
      'grants/aws/_app.yaml':
        'name: AWS\nconnector: { type: aws-identity-center }\nentitlements:\n  - { id: platform, kind: group, group: Platform Engineers }\n',
      ...Object.fromEntries(
        people.map((p) => [`grants/aws/${p}.yaml`, `user: ${p}\napp: aws\npermissions: [platform]\n`]),
      ),
    });
    commitAll(many, 'eight people');
    server.faults.expire = { operation: 'CreateGroupMembership', count: 100 };
    const expired = await apply(many);
    expect(expired.stdout).toContain('Applied: 0 granted, 0 revoked, 0 unchanged, 8 failed.');
    const lines = expired.stdout.split('\n').filter((l) => l.startsWith('failed'));
    const met = lines.filter((l) => !l.includes('not tried'));
    // Only those under way at once met the refusal; the rest were never sent.
    expect(met.length).toBeGreaterThanOrEqual(1);
    expect(met.length).toBeLessThanOrEqual(4);
    expect(met.every((l) => l.includes("AWS refused iden's credentials"))).toBe(true);
    expect(server.count('CreateGroupMembership')).toBe(met.length);
    expect(expired.stdout).toContain('not tried: adding');
    for (const out of [wrongSecret, unknownKey, expired]) {
      expect(out.stdout + out.stderr).not.toContain(SECRET_KEY);
      expect(out.stdout + out.stderr).not.toContain('not-the-secret');
    }
    const none = await cli(['plan', '--repo', dir, '--at', NOW], new StepClock(TEST_NOW), {
      AWS_REGION: 'eu-west-1',
      HOME: dir,
    });
    expect(none.stdout).toContain('aws skipped: no credentials: no AWS credentials');
  });

  it('abandons a request AWS never answers after timeoutMs, and asks again', async () => {
    const { readOnly } = await center();
    const dir = accessRepo(readOnly, {}, '');
    writeTree(
      {
        'grants/aws/_app.yaml': readFileSync(join(dir, 'grants/aws/_app.yaml'), 'utf8').replace(
          'type: aws-identity-center }',
          'type: aws-identity-center, timeoutMs: 1000 }',
        ),
      },
      dir,
    );
    commitAll(dir, 'aws access');
    server.faults.silence = { operation: 'ListUsers', count: 1 };
    expect(brief(await plan(dir))).toHaveLength(3);
    expect(server.count('ListUsers')).toBe(2);
  });

  it('shows access through an assigned group as external: never drift, never removed, not imported', async () => {
    const { s, ids, admin, readOnly } = await center();
    const admins = s.group('Cloud Admins', [ids.carol, ids.alice]);
    for (const a of PROD) s.assign(a, admin, 'GROUP', admins.id);
    const dir = accessRepo(readOnly, {}, 'prune: true\n');
    commitAll(dir, 'aws access');
    const p = await plan(dir);
    // alice's prod-admin is already given through the group; carol's is not drift.
    expect(brief(p)).toEqual(['grant alice platform new-grant', 'grant bob readonly new-grant']);
    expect(p.drift).toEqual([]);
    const view = JSON.parse(
      (await cli(['access', '--repo', dir, '--at', NOW, '--app', 'aws', '--observed', '--format', 'json']))
        .stdout,
    ) as { access: { user: string; entitlement?: string; permissions?: string[]; observed?: string }[] };
    expect(view.access.map((r) => `${r.user} ${r.observed ?? '-'}`)).toEqual([
      'alice missing',
      'bob missing',
      'carol in-sync',
    ]);
  });

  it('imports what the instance holds, and the next plan is empty', async () => {
    const { s, ids, admin, readOnly } = await center();
    for (const a of PROD) s.assign(a, admin, 'USER', ids.alice);
    s.assign(PROD[0]!, readOnly, 'USER', ids.bob);
    // carol has admin through a group: not hers to be granted in a file.
    const admins = s.group('Cloud Admins', [ids.carol]);
    for (const a of PROD) s.assign(a, admin, 'GROUP', admins.id);
    const dir = accessRepo(readOnly, {
      'grants/aws/alice.yaml': null,
      'grants/aws/bob.yaml': null,
      'grants/aws/carol.yaml': null,
    });
    commitAll(dir, 'aws, nothing granted yet');
    const out = await cli(['import', '--repo', dir, '--app', 'aws', '--at', NOW, '--format', 'json']);
    const result = JSON.parse(out.stdout) as { written: string[]; unmatched: string[]; conflicts: unknown[] };
    expect(result.written).toEqual(['grants/aws/alice.yaml', 'grants/aws/bob.yaml', 'grants/aws/carol.yaml']);
    expect(readFileSync(join(dir, 'grants/aws/alice.yaml'), 'utf8')).toContain('permissions: [prod-admin]');
    expect(readFileSync(join(dir, 'grants/aws/carol.yaml'), 'utf8')).toContain('permissions: [platform]\n');
    expect(result.conflicts).toEqual([]);
    commitAll(dir, 'imported');
    expect(brief(await plan(dir))).toEqual([]);
  });

  it('keeps at most ten assignment requests outstanding, as AWS allows, and paces requests at the rate set', async () => {
    const { s, admin } = await center();
    const ALL = [...PROD, '777788889999'];
    const people = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const userIds = people.map((p) => s.user(`${p}@example.com`));
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: R ${p}, email: ${p}@example.com }\n`).join('')}`,
      'grants/aws/_app.yaml': `name: AWS\nconnector: { type: aws-identity-center, requestsPerSecond: 4 }\nentitlements:\n  - { id: prod-admin, kind: permission-set, permissionSet: AdministratorAccess, accounts: ['${ALL[0]}', '${ALL[1]}', '${ALL[2]}'] }\n`,
      ...Object.fromEntries(
        people.map((p) => [`grants/aws/${p}.yaml`, `user: ${p}\napp: aws\npermissions: [prod-admin]\n`]),
      ),
    });
    commitAll(dir, 'twelve admins');
    server.faults.settleAfter = 3;
    const clock = new StepClock(TEST_NOW);
    const run = await apply(dir, NOW, clock);
    expect(run.stdout).toContain('Applied: 12 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(userIds.every((id) => ALL.every((a) => s.holds(a, admin, 'USER', id)))).toBe(true);
    // Four changes at once, three accounts each, would be twelve.
    expect(server.maxInFlight).toBe(10);
    // Every request a quarter of a second apart on the run's clock, at most.
    const requests = server.calls.length;
    expect(clock.waited).toBeGreaterThanOrEqual(((requests - 1) * 1000) / 4 - 1);
  });
});

describe('aws-identity-center errors', () => {
  it("takes AWS's wait from a throttling error, and tells credentials, throttling and refusals apart", async () => {
    const { translate } = await import('../../src/connectors/aws-identity-center/index.js');
    const { AppStoppedError, TerminalError, TransientError } = await import('../../src/connectors/types.js');
    const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status }, ...extra });
    const throttled = translate(sdkError('ThrottlingException', 429, { RetryAfterSeconds: 3 }), 'x');
    expect(throttled).toBeInstanceOf(TransientError);
    expect((throttled as InstanceType<typeof TransientError>).retryAfterMs).toBe(3000);
    const header = translate(
      sdkError('ThrottlingException', 429, { $response: { headers: { 'retry-after': '7' } } }),
      'x',
    );
    expect((header as InstanceType<typeof TransientError>).retryAfterMs).toBe(7000);
    expect(translate(sdkError('InternalServerException', 500), 'x')).toBeInstanceOf(TransientError);
    expect(
      translate(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'x'),
    ).toBeInstanceOf(TransientError);
    expect(translate(sdkError('UnrecognizedClientException', 400), 'x')).toBeInstanceOf(AppStoppedError);
    const denied = translate(sdkError('AccessDeniedException', 403), 'adding a to group "g"');
    expect(denied).toBeInstanceOf(TerminalError);
    expect(denied.message).toBe(
      'adding a to group "g": AccessDeniedException (HTTP 403): AccessDeniedException message; iden\'s role lacks a permission this needs (the connector\'s README lists the policy)',
    );
  });
});
