// Plans (and applies) the benchmark repository against in-process apps and
// prints JSON figures: the plan time in steady state, calls beside their minimum.
import { closeSync, openSync, writeSync } from 'node:fs';
import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { memoryConnector, planOptions } from './memory-connector.mjs';
import { timedPlan } from './timed-plan.mjs';

const root = process.argv[2];
const { connector, stores, counts } = memoryConnector();

// First run: every app empty, so every grant is a change; applied in batches.
const prepared = await preparePlan(planOptions(await loadRepo(root), connector));
const firstChanges = prepared.plan.changes.length;
const batches = new Set(prepared.plan.changes.map((c) => `${c.app}\u0000${c.action}\u0000${c.account}`)).size;
const pagesBefore = counts.observePages;
await applyChanges(prepared.plan.changes, prepared.sessions, { retry: { attempts: 1, baseMs: 1, maxMs: 1 } });
await closeSessions(prepared.sessions);
const apply = {
  changes: firstChanges,
  calls: counts.observePages + counts.mutations,
  minimum: pagesBefore + batches,
};

// Steady state: a few assignments removed by hand and a little drift added.
let n = 0;
for (const store of stores.values()) {
  for (const k of [...store.keys()]) if (n++ % 97 === 0) store.delete(k);
  store.set(`drift-${n}`, { account: `intruder-${n}`, entitlement: 'ent-1' });
}
// argv[3]: where to keep the apps in this steady state, for plan-steady-child.mjs (a plan in a process of its own).
if (process.argv[3]) {
  const fd = openSync(process.argv[3], 'w');
  for (const [app, store] of stores)
    for (const h of store.values())
      writeSync(fd, `${JSON.stringify([app, h.account, h.entitlement, h.license])}\n`);
  closeSync(fd);
}
counts.observePages = 0;
counts.minimumPages = 0;
const figures = await timedPlan(root, connector);
console.log(JSON.stringify({ ...figures, calls: counts.observePages, minimum: counts.minimumPages, apply }));
