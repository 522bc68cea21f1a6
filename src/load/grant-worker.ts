import { parentPort } from 'node:worker_threads';
import { type GrantJob, loadGrants } from './grants.js';

// A worker thread that parses and schema-checks batches of grant files.
parentPort?.on('message', (job: GrantJob) => {
  parentPort?.postMessage(loadGrants(job));
});
