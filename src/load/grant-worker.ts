import { parentPort } from 'node:worker_threads';
import { type GrantJob, loadGrants } from './grants.js';
import { WorkTree } from './tree.js';

// A worker thread that parses and schema-checks batches of grant files. The
// reply is one JSON string: far cheaper to pass between threads than
// thousands of small cloned objects.
parentPort?.on('message', (job: GrantJob) => {
  const loaded = loadGrants(new WorkTree(job.root), job.paths).map(({ value, raw, diagnostics }) => [
    value === raw,
    raw ?? null,
    diagnostics,
  ]);
  parentPort?.postMessage(JSON.stringify(loaded));
});
