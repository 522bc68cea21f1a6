// 5,000 people in an Identity Store group and 1,000 of them given a permission
// set in three AWS accounts, through the aws-identity-center connector against
// the loopback IAM Identity Center the tests use: a first run that grants
// everything, then a run with nothing to do. Prints JSON: calls per operation
// and the minimum paging and batching allow. The connector's pacing and status
// polling wait on a clock that skips its waits: nothing is slept.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadRepo } from '../dist/src/load/repo.js';
import { ManualClock } from '../dist/src/model/clock.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { CenterServer } from '../dist/test/helpers/aws-ic-server.js';
import { seed } from '../dist/test/helpers/aws-ic-state.js';

const PEOPLE = 5000;
const ADMINS = 1000;
const ACCOUNTS = ['111122223333', '444455556666', '777788889999'];
const PAGE = 100;
const SETS = 40;
const pages = (n) => Math.max(1, Math.ceil(n / PAGE));

/** A clock whose waits pass at once. */
class SkipClock extends ManualClock {
  sleep(ms) {
    const done = super.sleep(ms);
    this.advance(Math.max(0, ms));
    return done;
  }
}

const server = new CenterServer();
await server.start();
const s = seed(server);
const ids = Array.from({ length: PEOPLE }, (_, i) => `p${String(i).padStart(4, '0')}`);
for (const id of ids) s.user(`${id}@example.com`);
s.group('Everyone');
// The named set is the last of 40 listed: finding it by name describes every one (an ARN would describe none).
for (let i = 0; i < SETS - 1; i++) s.permissionSet(`Set${i}`);
s.permissionSet('AdministratorAccess');

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-aws-'));
mkdirSync(join(dir, 'grants', 'aws'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/aws/_app.yaml'),
  `name: AWS\nconnector: { type: aws-identity-center }\nentitlements:\n  - { id: everyone, kind: group, group: Everyone }\n  - { id: admin, kind: permission-set, permissionSet: AdministratorAccess, accounts: [${ACCOUNTS.map((a) => `'${a}'`).join(', ')}] }\n`,
);
for (const [i, id] of ids.entries())
  writeFileSync(
    join(dir, 'grants/aws', `${id}.yaml`),
    `user: ${id}\napp: aws\npermissions: [${i < ADMINS ? 'everyone, admin' : 'everyone'}]\n`,
  );

async function run() {
  server.calls.length = 0;
  const clock = new SkipClock(Date.parse('2026-11-27T12:00:00Z'));
  const started = performance.now();
  const prepared = await preparePlan({
    repo: await loadRepo(dir),
    at: clock.now(),
    strict: true,
    allowMassRemoval: true,
    env: server.env(),
    registry: { 'aws-identity-center': connectors['aws-identity-center'] },
    lockTimeoutMs: 0,
    clock,
  });
  const observeCalls = server.calls.length;
  const results = await applyChanges(prepared.plan.changes, prepared.sessions);
  await closeSessions(prepared.sessions);
  return {
    ms: performance.now() - started,
    changes: results.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    calls: server.calls.length,
    observeCalls,
    byOperation: server.tally(),
  };
}

// The floor: every listing in pages of 100 (the most any of them allows), one write per
// membership (the Identity Store has no batch write), and per assignment one request and
// at least one status read (AWS carries it out asynchronously).
const observeFloor = (members, holdersPerAccount) =>
  1 + pages(PEOPLE) + 1 + pages(members) + pages(SETS) + SETS + ACCOUNTS.length * pages(holdersPerAccount);
const first = await run();
const firstMinimum = observeFloor(0, 0) + PEOPLE + 2 * ADMINS * ACCOUNTS.length;
const second = await run();
const secondMinimum = observeFloor(PEOPLE, ADMINS);
console.log(JSON.stringify({ first, firstMinimum, second, secondMinimum, errors: server.errors.length }));
await server.stop();
