// 1,000 people joining 20 groups through the SCIM connector against SCIMMY
// (the same SCIM 2.0 service provider the tests use), on loopback. Prints
// JSON: requests made, their minimum, wall time.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';

const scim = connectors.scim;

import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { addGroup, startScimServer } from '../dist/test/helpers/scim-server.js';

const people = 1000;
const groups = 20;
const server = await startScimServer();
const names = Array.from({ length: groups }, (_, g) => `team-${g}`);
for (const name of names) addGroup(name);
const ids = Array.from({ length: people }, (_, i) => `p${String(i).padStart(4, '0')}`);
const dir = mkdtempSync(join(tmpdir(), 'iden-bench-scim-'));
mkdirSync(join(dir, 'grants', 'app'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/app/_app.yaml'),
  `name: App\nconnector: { type: scim, baseUrl: ${server.url}, tokenEnv: T }\nentitlements:\n${names.map((n) => `  - { id: ${n}, kind: group, group: ${n} }\n`).join('')}`,
);
// Each person joins one group; the groups fill evenly.
for (const [i, id] of ids.entries())
  writeFileSync(
    join(dir, 'grants/app', `${id}.yaml`),
    `user: ${id}\napp: app\npermissions: [${names[i % groups]}]\n`,
  );

const started = performance.now();
const repo = await loadRepo(dir);
const prepared = await preparePlan({
  repo,
  at: Date.now(),
  strict: true,
  allowMassRemoval: true,
  env: { T: 'scim-token' },
  registry: { scim },
  lockTimeoutMs: 0,
});
const pages = server.store.requests.length;
const results = await applyChanges(prepared.plan.changes, prepared.sessions);
await closeSessions(prepared.sessions);
const ms = performance.now() - started;
console.log(
  JSON.stringify({
    ms,
    changes: results.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    requests: server.store.requests.length,
    pages,
    minimum: pages + people + groups,
  }),
);
await server.stop();
