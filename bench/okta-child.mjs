// 5,000 people in 100 Okta groups (each person in two, each group of 100)
// through the okta connector, against the loopback Okta test server with
// Okta's published Workforce rate limits. Three runs: the first apply from
// empty groups, a run with nothing to do, and a run where 1% of the people
// change a group. Prints JSON: the calls of each run, their minimum, and the
// time each takes at the published limits, computed on a clock whose waits
// pass at once (never slept).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { OktaServer } from '../dist/test/helpers/okta-server.js';
import { RunningClock } from '../dist/test/helpers/running-clock.js';

const PEOPLE = 5000;
const GROUPS = 100;
const AT = Date.parse('2026-11-27T12:00:00Z');
const clock = new RunningClock(AT);
const server = new OktaServer(clock);
const ids = Array.from({ length: PEOPLE }, (_, i) => `p${String(i).padStart(4, '0')}`);
for (const id of ids) server.addUser(`${id}@example.com`);
const names = Array.from({ length: GROUPS }, (_, g) => `team-${String(g).padStart(2, '0')}`);
for (const name of names) server.addGroup(name);
await server.start();

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-okta-'));
mkdirSync(join(dir, 'grants', 'okta'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/okta/_app.yaml'),
  `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}' }\nprune: true\nentitlements:\n${names.map((n) => `  - { id: ${n}, kind: group, group: ${n} }\n`).join('')}`,
);
const teamsOf = (i, shift = 0) => [names[(i + shift) % GROUPS], names[(i + 37 + shift) % GROUPS]];
const writeGrants = (shift = () => 0) => {
  for (const [i, id] of ids.entries())
    writeFileSync(
      join(dir, 'grants/okta', `${id}.yaml`),
      `user: ${id}\napp: okta\npermissions: [${teamsOf(i, shift(i)).join(', ')}]\n`,
    );
};

/** One run: observe, plan, apply; its calls by bucket and the time it took on the clock. */
async function run() {
  const before = server.requests.length;
  const start = clock.now();
  const wall = performance.now();
  const repo = await loadRepo(dir);
  const prepared = await preparePlan({
    repo,
    at: AT,
    strict: true,
    allowMassRemoval: true,
    env: { OKTA_API_TOKEN: server.apiToken },
    registry: { okta: connectors.okta },
    lockTimeoutMs: 0,
    clock,
  });
  const observeCalls = server.requests.length - before;
  const changes = prepared.plan.changes;
  const results = await applyChanges(changes, prepared.sessions);
  await closeSessions(prepared.sessions);
  const calls = server.requests.slice(before);
  return {
    changes: changes.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    calls: calls.length,
    observeCalls,
    lookups: calls.filter((c) => c.startsWith('GET /api/v1/users')).length,
    writes: calls.filter((c) => !c.startsWith('GET')).length,
    minutes: (clock.now() - start) / 60_000,
    realMs: performance.now() - wall,
  };
}

// Observe's floor: the groups found by name (50 to a search), each group's members (1,000 a page, one
// page at least), the rules; a first run also looks its people up (50 logins to a search).
const observeFloor =
  Math.ceil(GROUPS / 50) + GROUPS * Math.max(1, Math.ceil((2 * PEOPLE) / GROUPS / 1000)) + 1;
writeGrants();
const first = await run();
const second = await run();
// 1% of the people move from their first group to the next one: a removal and an addition each.
writeGrants((i) => (i % 100 === 0 ? 1 : 0));
const churn = await run();
console.log(
  JSON.stringify({
    people: PEOPLE,
    groups: GROUPS,
    groupLimit: server.limits['/api/v1/groups'],
    first: { ...first, minimum: observeFloor + Math.ceil(PEOPLE / 50) + 2 * PEOPLE },
    second: { ...second, minimum: observeFloor },
    churn: { ...churn, minimum: observeFloor + churn.changes },
    errors: server.errors.length,
  }),
);
await server.stop();
rmSync(dir, { recursive: true, force: true });
