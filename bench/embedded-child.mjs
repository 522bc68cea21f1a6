// One phase of the embedded-database benchmark, in its own process so its
// peak memory is its own: `plan` observes every app's embedded PostgreSQL,
// `apply` plans and applies. Prints JSON {ms, rssMb, changes}.
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadCommitted } from '../dist/src/load/committed.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { memoryConnector } from './memory-connector.mjs';

const [root, phase, kind = 'embedded'] = process.argv.slice(2);
const at = Date.parse('2026-11-27T12:00:00Z');
const registry = kind === 'memory' ? { postgres: memoryConnector().connector } : connectors;
const started = performance.now();
const { repo } = await loadCommitted(root);
const prepared = await preparePlan({
  repo,
  at,
  strict: true,
  allowMassRemoval: true,
  env: {},
  registry,
  lockTimeoutMs: 0,
});
let applied = 0;
if (phase === 'apply') {
  const results = await applyChanges(prepared.plan.changes, prepared.sessions);
  applied = results.filter((r) => r.outcome === 'granted').length;
}
await closeSessions(prepared.sessions);
const ms = performance.now() - started;
console.log(
  JSON.stringify({
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    changes: prepared.plan.changes.length,
    skipped: prepared.plan.skipped.length,
    applied,
  }),
);
