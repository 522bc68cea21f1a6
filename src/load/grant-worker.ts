import { parentPort } from 'node:worker_threads';
import { type GrantJob, loadGrants, type Reply } from './grants.js';
import { WorkTree } from './tree.js';

// A worker thread that parses and schema-checks batches of grant files. The
// reply is one JSON string: far cheaper to pass between threads than
// thousands of small cloned objects. A file the parse cache holds unchanged
// is answered with 0.
parentPort?.on('message', (job: GrantJob) => {
  const loaded: Reply = loadGrants(new WorkTree(job.root), job.paths, job.hashes, job.known).map((grant) =>
    grant === null
      ? 0
      : [grant.value === grant.raw, grant.raw ?? null, grant.diagnostics, grant.hash ?? null],
  );
  parentPort?.postMessage(JSON.stringify(loaded));
});
