// npm run bench audit-floor: iden audit, the whole process, beside the floor
// of one `git log --first-parent --raw` of grants/ on the same history, on
// 10,000 and 100,000 commits (issue 35: each within 3x).
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHistory } from './generate-history.mjs';

const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function wall(file, args, cwd) {
  const started = performance.now();
  const out = execFileSync(file, args, {
    cwd,
    maxBuffer: 1 << 30,
    env: { ...process.env, GITHUB_TOKEN: '', GH_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return { ms: performance.now() - started, bytes: out.length };
}

/** iden audit as the CLI runs it (bench/audit-floor-child.mjs: main() in a process of its own, output discarded). */
function iden(root, args) {
  const out = execFileSync(
    process.execPath,
    [
      join(import.meta.dirname, 'audit-floor-child.mjs'),
      'audit',
      '--repo',
      root,
      '--format',
      'json',
      ...args,
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, GITHUB_TOKEN: '', GH_TOKEN: '' } },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

const floor = (root) =>
  wall(
    'git',
    [
      ...['log', '--first-parent', '--raw', '-z', '--no-abbrev', '--no-renames', '--format=%H', 'HEAD'],
      ...['--', 'grants/'],
    ],
    root,
  );

export async function auditFloorBench(sizes = [10_000, 100_000]) {
  for (const commits of sizes) {
    const root = generateHistory(join(tmpdir(), `iden-bench-history-${commits / 1000}k`), {
      commits,
      files: 2_000,
      apps: 20,
    });
    console.log(
      `audit-floor: iden audit (main() in its own process, from its command line to its output) on ${commits.toLocaleString('en')} commits over 2,000 grant files, beside one git log --first-parent --raw of grants/`,
    );
    const questions = [
      ['one person', ['--user', 'person-00007']],
      ['--as-of', ['--as-of', '2025-06-01']],
      ['--review', ['--review']],
      ['whole timeline', []],
    ];
    for (const [name, args] of questions) {
      const pairs = [];
      for (let i = 0; i < 3; i++) {
        const a = iden(root, args);
        const b = floor(root);
        pairs.push({ a, b, ratio: a.ms / b.ms });
      }
      const ratio = median(pairs.map((p) => p.ratio));
      const { a, b } = pairs.find((p) => p.ratio === ratio);
      const target = name === 'whole timeline' ? '' : ` (target <= 3x): ${ratio <= 3 ? 'met' : 'MISSED'}`;
      console.log(
        `  ${name.padEnd(15)} ${(a.ms / 1000).toFixed(2)} s (exit ${a.code}), ${a.rssMb.toFixed(0)} MB; floor ${(b.ms / 1000).toFixed(2)} s; ${ratio.toFixed(2)}x (pairs ${pairs.map((p) => p.ratio.toFixed(2)).join(', ')})${target}`,
      );
    }
    console.log('');
  }
}
