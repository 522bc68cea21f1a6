// The generated repositories the views bench reads (10k, 100k, 1M grants), each
// made once under the system's temporary folder, committed once, and reused.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRepo } from './generate.mjs';

export const SIZES = {
  '10k': { people: 1_000, apps: 20, grants: 10_000 },
  '100k': { people: 10_000, apps: 200, grants: 100_000 },
  '1m': { people: 100_000, apps: 2_000, grants: 1_000_000 },
};

const DIRS = { '10k': 'iden-views-10k', '100k': 'iden-views-100k', '1m': 'iden-views-1m' };

/** The repository of that size, generated and committed on `main` (once). */
export function viewsRepo(size) {
  const dir = generateRepo(join(tmpdir(), DIRS[size]), SIZES[size]);
  const git = (...args) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  try {
    git('rev-parse', '--verify', '-q', 'main');
  } catch {
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n.generated\n');
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'bench');
  }
  git('update-index', '-q', '--refresh');
  return dir;
}

if (process.argv[1] === import.meta.filename) {
  const started = performance.now();
  console.log(viewsRepo(process.argv[2] ?? '1m'), ((performance.now() - started) / 1000).toFixed(0), 's');
}
