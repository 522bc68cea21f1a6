// The repositories the hist bench reads, each made once under the system's temporary
// folder and committed on main: 100,000 and 1,000,000 grants (bench/generate.mjs), and
// histories of 10,000 and 100,000 commits (bench/generate-history.mjs).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRepo } from './generate.mjs';
import { generateHistory } from './generate-history.mjs';

export const SIZES = {
  '100k': { people: 10_000, apps: 200, grants: 100_000 },
  '1m': { people: 100_000, apps: 2_000, grants: 1_000_000 },
};

/** The generated repository of that size, committed on main (once). */
export function grantsRepo(size) {
  const dir = generateRepo(join(tmpdir(), `iden-bench-hist-${size}`), SIZES[size]);
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  try {
    git('rev-parse', '--verify', '-q', 'main');
  } catch {
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n.generated\n');
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'bench');
  }
  return dir;
}

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
