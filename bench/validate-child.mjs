// Runs validate the way the CLI does, in its own process, and prints JSON
// {ms, rssMb, diagnostics}: peak memory covers the worker threads too.
import { loadRepo } from '../dist/src/load/repo.js';
import { validateRepo } from '../dist/src/validate/validate.js';

const started = performance.now();
const repo = await loadRepo(process.argv[2]);
const result = validateRepo(repo, Date.now());
const ms = performance.now() - started;
console.log(
  JSON.stringify({
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    diagnostics: result.diagnostics.length,
  }),
);
