// The repositories the hist bench reads, each made once under the system's temporary
// folder and committed on main: 100,000 and 1,000,000 grants (bench/views-repo.mjs), and
// histories of 10,000 and 100,000 commits (bench/generate-history.mjs).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHistory } from './generate-history.mjs';
import { viewsRepo } from './views-repo.mjs';

/** The generated repository of that size, committed on main (once): the views bench's own, so a
 * million grants are generated and committed once for both. */
export const grantsRepo = viewsRepo;

/** A history of that many commits: 10k over 2,000 files in 20 apps (as the audit bench), 100k over 20,000 in 200. */
export function historyRepo(commits) {
  return commits === 10_000
    ? generateHistory(join(tmpdir(), 'iden-bench-history'), { commits, files: 2_000, apps: 20 })
    : generateHistory(join(tmpdir(), 'iden-bench-plan-history-100k'), { commits, files: 20_000, apps: 200 });
}

if (process.argv[1] === import.meta.filename) {
  const started = performance.now();
  const [kind, size] = process.argv.slice(2);
  const dir = kind === 'history' ? historyRepo(Number(size)) : grantsRepo(size);
  console.log(dir, ((performance.now() - started) / 1000).toFixed(0), 's');
}
