// 5,000 people in 100 Google groups, each with a Workspace licence, through the
// google-workspace connector against the loopback Google of the tests (every
// request checked against the Discovery documents). Counts the API calls of a
// first apply and of a steady-state plan against the minimum the paging
// allows, and computes the wall time Google's published quota imposes, on a
// virtual clock: the pacer's waits are reckoned, never slept. Prints JSON.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { GoogleServer } from '../dist/test/helpers/google-server.js';

const PEOPLE = 5000;
const GROUPS = 100;
const PER_MINUTE = 2400;
const SKU = { productId: 'Google-Apps', skuId: '1010020028' };

/**
 * A clock that never waits: a sleep moves time to its end at once. Sleeps
 * begun together end together (time moves to the latest end, not the sum),
 * so the two APIs' paces overlap as they do in a real run.
 */
function virtualClock(start) {
  let time = start;
  return {
    now: () => time,
    sleep: async (ms) => {
      const end = time + Math.max(0, ms);
      await Promise.resolve();
      time = Math.max(time, end);
    },
    at: (_at, fire) => {
      queueMicrotask(fire);
      return { cancel: () => undefined };
    },
    elapsed: () => time - start,
  };
}

const server = new GoogleServer();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
server.serviceAccount = { email: 'iden@bench.iam.gserviceaccount.com', publicKey };
const ids = Array.from({ length: PEOPLE }, (_, i) => `p${String(i).padStart(4, '0')}`);
const groups = Array.from({ length: GROUPS }, (_, g) => `team-${String(g).padStart(2, '0')}`);
for (const id of ids) server.workspace.addUser(`${id}@acme.com`);
server.workspace.addUser('iden-admin@acme.com');
for (const g of groups) server.workspace.addGroup(`${g}@acme.com`);
server.workspace.addSku(SKU.productId, SKU.skuId, PEOPLE);
await server.start();

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-google-'));
mkdirSync(join(dir, 'grants', 'gws'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@acme.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/gws/_app.yaml'),
  [
    'name: Google Workspace',
    'connector:',
    '  type: google-workspace',
    '  adminEmail: iden-admin@acme.com',
    '  customer: C0iden42',
    `  tokenUri: ${server.urls.token}`,
    `  directoryUrl: ${server.urls.directory}`,
    `  licensingUrl: ${server.urls.licensing}`,
    'entitlements:',
    ...groups.map((g) => `  - { id: ${g}, kind: group, group: ${g}@acme.com }`),
    'licenses:',
    `  - { id: standard, seats: ${PEOPLE}, productId: ${SKU.productId}, skuId: "${SKU.skuId}" }`,
    '',
  ].join('\n'),
);
// Each person in one group; the groups fill evenly (50 each).
for (const [i, id] of ids.entries())
  writeFileSync(
    join(dir, 'grants/gws', `${id}.yaml`),
    `user: ${id}\napp: gws\npermissions: [${groups[i % GROUPS]}]\nlicense: standard\n`,
  );

const env = {
  GOOGLE_WORKSPACE_CREDENTIALS: JSON.stringify({
    type: 'service_account',
    client_email: 'iden@bench.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }),
};
const repo = await loadRepo(dir);

/** One run: observe, then apply what the plan says; the calls of each part, and the paced time. */
async function run() {
  const clock = virtualClock(Date.parse('2026-11-27T12:00:00Z'));
  const before = { http: server.http.length, units: server.requests.length };
  const started = performance.now();
  const prepared = await preparePlan({
    repo,
    at: clock.now(),
    strict: true,
    allowMassRemoval: true,
    env,
    registry: { 'google-workspace': connectors['google-workspace'] },
    lockTimeoutMs: 0,
    clock,
  });
  if (prepared.plan.skipped.length > 0) throw new Error(JSON.stringify(prepared.plan.skipped));
  const observed = { http: server.http.length - before.http, units: server.requests.length - before.units };
  const results = await applyChanges(prepared.plan.changes, prepared.sessions);
  await closeSessions(prepared.sessions);
  return {
    ms: performance.now() - started,
    pacedMs: clock.elapsed(),
    changes: results.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    observe: observed,
    total: { http: server.http.length - before.http, units: server.requests.length - before.units },
  };
}

const first = await run();
const second = await run();
const perGroup = PEOPLE / GROUPS;
// The reads the paging allows: a page of up to 200 members per group, of up to 1,000 licences per SKU.
const readUnits = (holders) =>
  GROUPS * Math.max(1, Math.ceil(perGroup / 200)) + Math.max(1, Math.ceil(holders / 1000));
const minimum = {
  first: {
    // Every group's first page in one batch, the SKU's one page; then one write per membership and
    // licence, a thousand to a batch request; and the token.
    units: readUnits(0) + PEOPLE * 2,
    http: 1 + Math.ceil(GROUPS / 1000) + 1 + 2 * Math.ceil(PEOPLE / 1000),
  },
  second: {
    units: readUnits(PEOPLE),
    // The groups' pages together; the SKU's five pages one after another (each needs the last's token).
    http: 1 + Math.ceil(GROUPS / 1000) + Math.ceil(PEOPLE / 1000),
  },
};
// The quota alone: the most requests of one API in a run, at 2,400 a minute, first minute free.
const quotaFloorMs = (units) => Math.floor((units - 1) / PER_MINUTE) * 60_000;
console.log(
  JSON.stringify({
    first,
    second,
    minimum,
    directoryUnits: GROUPS + PEOPLE,
    floorMs: quotaFloorMs(GROUPS + PEOPLE),
    errors: server.errors.length,
  }),
);
await server.stop();
