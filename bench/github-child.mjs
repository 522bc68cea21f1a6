// Applies 2,000 changes through the GitHub connector against the loopback
// GitHub test server with 20 ms latency per request, and prints JSON: calls
// made, their minimum, and wall time.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';

const github = connectors.github;

import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { GithubOrgServer } from '../dist/test/helpers/github-org-server.js';

const people = 500;
const server = new GithubOrgServer('acme', { latencyMs: Number(process.env.LATENCY ?? 20) });
const ids = Array.from({ length: people }, (_, i) => `p${String(i).padStart(4, '0')}`);
for (const id of ids) {
  server.users.add(`${id}-gh`);
  server.members.set(`${id}-gh`, 'member');
}
server.users.add('owner');
server.members.set('owner', 'admin');
server.teams.set('engineering', new Map());
server.teams.set('platform', new Map());
server.repos.set('api', new Map());
await server.start();

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-github-'));
mkdirSync(join(dir, 'grants', 'gh'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com, accounts: { gh: ${id}-gh } }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/gh/_app.yaml'),
  `name: G\nconnector: { type: github, org: acme, writeIntervalMs: 0, contentPerMinute: 0, contentPerHour: 0 }\nentitlements:\n  - { id: eng, kind: group, team: engineering }\n  - { id: plat, kind: group, team: platform }\n  - { id: api-push, kind: permission, repo: api, permission: push }\nlicenses:\n  - { id: copilot, seats: ${people}, copilot: true }\n`,
);
for (const id of ids) {
  writeFileSync(
    join(dir, 'grants/gh', `${id}.yaml`),
    `user: ${id}\napp: gh\npermissions: [eng, plat, api-push]\nlicense: copilot\n`,
  );
}
const env = { GITHUB_TOKEN: 'bench', GITHUB_API_URL: server.url };
const started = performance.now();
const repo = await loadRepo(dir);
const prepared = await preparePlan({
  repo,
  at: Date.now(),
  strict: true,
  allowMassRemoval: true,
  env,
  registry: { github },
});
const observeCalls = server.requests.length;
const changes = prepared.plan.changes;
const results = await applyChanges(changes, prepared.sessions);
await closeSessions(prepared.sessions);
const ms = performance.now() - started;
const single = changes.filter((c) => c.license === undefined).length;
const copilotBatches = Math.ceil(changes.filter((c) => c.license !== undefined).length / 1e9);
console.log(
  JSON.stringify({
    ms,
    changes: changes.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    calls: server.requests.length,
    observeCalls,
    minimum: observeCalls + single + copilotBatches,
    errors: server.errors.length,
  }),
);
await server.stop();
