// A plan in steady state in a process of its own: the in-process apps are filled with what
// plan-child.mjs left them holding (argv[3], a JSON array a line), then one plan is timed.
// Prints JSON {ms, rssMb, appsMb, changes, drift}: peak memory is the whole process's, the apps'
// assignments included (appsMb: what holding them took, measured before the plan).
import { readFileSync } from 'node:fs';
import { loadRepo } from '../dist/src/load/repo.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { memoryConnector } from './memory-connector.mjs';

const [root, kept] = process.argv.slice(2);
const { connector, stores } = memoryConnector();
const before = process.memoryUsage().rss;
for (const line of readFileSync(kept, 'utf8').split('\n')) {
  if (!line) continue;
  const [app, account, entitlement, license] = JSON.parse(line);
  if (!stores.has(app)) stores.set(app, new Map());
  const h = { account, ...(entitlement ? { entitlement } : { license }) };
  stores.get(app).set(`${account}\u0000${entitlement ?? ''}\u0000${license ?? ''}`, h);
}
const appsMb = (process.memoryUsage().rss - before) / 1048576;
const started = performance.now();
const repo = await loadRepo(root);
// As plan-child.mjs: no reviewed pull requests behind the generated repository, verification off.
const settings = repo.settings?.value;
if (settings) settings.policy = { ...settings.policy, verifyMerges: false };
const prepared = await preparePlan({
  repo,
  at: Date.parse('2026-11-27T12:00:00Z'),
  strict: true,
  allowMassRemoval: true,
  env: {},
  registry: { postgres: connector },
  lockTimeout: 0,
});
const ms = performance.now() - started;
await closeSessions(prepared.sessions);
console.log(
  JSON.stringify({
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    appsMb,
    changes: prepared.plan.changes.length,
    drift: prepared.plan.drift.length,
  }),
);
