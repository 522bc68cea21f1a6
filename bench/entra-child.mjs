// 5,000 people through the entra connector against the loopback Entra test
// server (Graph's description checked on every request and response): each
// joins a group, gets an app role and an E3 licence. Prints JSON: the calls
// of each run beside the fewest Graph's paging (999 a page) and batching (20
// requests a batch, 15 values an `in` filter) allow, and what the same work
// would cost one request a call.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { CLIENT_ID, EntraServer, TENANT } from '../dist/test/helpers/entra-server.js';

const PEOPLE = 5000;
const CHURN = 100;
const PAGE = 999;
const BATCH = 20;
const IN = 15;
const pages = (n) => Math.max(1, Math.ceil(n / PAGE));
const batches = (n) => Math.ceil(n / BATCH);

const server = await new EntraServer().start();
const t = server.tenant;
t.addGroup('Everyone');
t.addApp('Contoso Portal', ['Reader']);
t.addSku('SPE_E3', PEOPLE + CHURN);
const ids = Array.from({ length: PEOPLE + CHURN }, (_, i) => `p${String(i).padStart(5, '0')}`);
for (const id of ids) t.addUser(`${id}@contoso.com`);

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-entra-'));
mkdirSync(join(dir, 'grants', 'm365'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@contoso.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/m365/_app.yaml'),
  `name: Microsoft 365
connector: { type: entra, tenantId: ${TENANT}, clientId: ${CLIENT_ID}, clientSecretEnv: S, tokenUrl: '${server.tokenUrl}', graphUrl: '${server.graphUrl}' }
entitlements:
  - { id: everyone, kind: group, group: Everyone }
  - { id: portal, kind: app-role, enterpriseApp: Contoso Portal, appRole: Reader }
licenses:
  - { id: e3, seats: ${PEOPLE + CHURN}, sku: SPE_E3 }
prune: true
`,
);
const grant = (id) =>
  writeFileSync(
    join(dir, 'grants/m365', `${id}.yaml`),
    `user: ${id}\napp: m365\npermissions: [everyone, portal]\nlicense: e3\n`,
  );
for (const id of ids.slice(0, PEOPLE)) grant(id);

/** One run: plan, then apply what it found; the Graph calls of each half and the operations they carried. */
async function run() {
  const before = { calls: server.graphCalls, operations: server.operations.length };
  const started = performance.now();
  const prepared = await preparePlan({
    repo: await loadRepo(dir),
    at: Date.parse('2026-11-27T12:00:00Z'),
    strict: true,
    allowMassRemoval: true,
    env: { S: 's3cret-Value~1' },
    registry: { entra: connectors.entra },
    lockTimeoutMs: 0,
  });
  const observe = server.graphCalls - before.calls;
  const results = await applyChanges(prepared.plan.changes, prepared.sessions);
  await closeSessions(prepared.sessions);
  return {
    ms: performance.now() - started,
    changes: results.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    observe,
    apply: server.graphCalls - before.calls - observe,
    operations: server.operations.length - before.operations,
  };
}

/**
 * The fewest calls observe can make: the group, the app and the product
 * lists first (each found by name), then each collection page after page
 * (one chain of pages each, side by side in batches).
 */
function observeFloor(members, holders, licensed) {
  const chains = [pages(members), pages(holders), pages(licensed)];
  const requests = 3 + chains.reduce((a, b) => a + b, 0);
  return Math.max(1 + Math.max(...chains), batches(requests));
}

// First run: nobody has anything yet. Every account is looked up (15 to a filter), then 3 writes a person.
const first = await run();
const firstFloor = observeFloor(0, 0, 0) + batches(Math.ceil(PEOPLE / IN)) + batches(3 * PEOPLE);
// Second run: nothing to change.
const steady = await run();
const steadyFloor = observeFloor(PEOPLE, PEOPLE, PEOPLE);
// Third run: 100 leave, 100 join (3 removals and 3 grants each; no git here, so the leavers' access is drift, pruned).
const { rmSync } = await import('node:fs');
for (const id of ids.slice(0, CHURN)) rmSync(join(dir, 'grants/m365', `${id}.yaml`));
for (const id of ids.slice(PEOPLE)) grant(id);
const churn = await run();
const churnFloor =
  observeFloor(PEOPLE, PEOPLE, PEOPLE) +
  batches(Math.ceil(CHURN / IN)) +
  batches(3 * CHURN) +
  batches(3 * CHURN);

console.log(
  JSON.stringify({
    errors: server.errors.length,
    tokens: server.tokenCalls,
    first: { ...first, floor: firstFloor },
    steady: { ...steady, floor: steadyFloor },
    churn: { ...churn, floor: churnFloor },
  }),
);
await server.stop();
