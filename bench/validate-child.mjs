// Runs validate the way the CLI does, in its own process, and prints JSON
// {ms, cpuMs, rssMb, diagnostics}: peak memory and CPU time (user and system,
// from the start of the process) cover the worker threads too.
import { loadRepo } from '../dist/src/load/repo.js';
import { validateRepo } from '../dist/src/validate/validate.js';

const started = performance.now();
const repo = await loadRepo(process.argv[2]);
const result = validateRepo(repo, Date.now());
const ms = performance.now() - started;
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssMb: process.resourceUsage().maxRSS / 1024,
    diagnostics: result.diagnostics.length,
  }),
);
