// One plan of a benchmark repository against `connector`, timed from loading the repository
// to the plan, its sessions closed after: the figures every plan child prints.
import { loadRepo } from '../dist/src/load/repo.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { planOptions } from './memory-connector.mjs';

/** {ms, rssMb (this process's peak), changes, drift} of one plan. */
export async function timedPlan(root, connector) {
  const started = performance.now();
  const prepared = await preparePlan(planOptions(await loadRepo(root), connector));
  const ms = performance.now() - started;
  await closeSessions(prepared.sessions);
  return {
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    changes: prepared.plan.changes.length,
    drift: prepared.plan.drift.length,
  };
}
