// npm run bench hist: plan against long histories beside one `git log` of them, plan of the
// 100,000-grant repository beside the parse floor, and iden serve's timer runs at 100,000
// grants. `npm run bench hist 1m` adds the 1,000,000-grant plan (its repository is made once,
// about 5 GB; one such process at a time).
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grantsRepo, historyRepo } from './hist-repos.mjs';

const child = (script, ...args) =>
  JSON.parse(
    execFileSync(process.execPath, [join(import.meta.dirname, script), ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    })
      .trim()
      .split('\n')
      .pop(),
  );
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');

export function histBench(sizes = []) {
  console.log(
    'plan on a long history: one plan beside one git log --first-parent --raw of the branch (the floor)',
  );
  for (const commits of [10_000, 100_000]) {
    const dir = historyRepo(commits);
    for (const mode of ['first', 'steady']) {
      const runs = Array.from({ length: commits === 10_000 ? 3 : 1 }, () =>
        child('history-plan-child.mjs', dir, mode),
      );
      const wall = median(runs.map((r) => r.ms / r.floorMs));
      const cpu = median(runs.map((r) => r.cpuMs / r.floorCpuMs));
      const r = runs[0];
      console.log(
        `  ${commits.toLocaleString('en')} commits, ${mode === 'first' ? 'first run (nothing applied, no records)' : 'steady state (applied and recorded)'}: ${s(r.ms)} (CPU ${s(r.cpuMs)}), ${r.rssMb.toFixed(0)} MB, ${r.gitProcesses} git processes; floor ${s(r.floorMs)} (CPU ${s(r.floorCpuMs)}); ${wall.toFixed(2)}x wall, ${cpu.toFixed(2)}x CPU (target <= 3x): ${verdict(wall <= 3)}`,
      );
    }
  }
  const big = grantsRepo('100k');
  console.log(
    'plan: 100,000 grants, 10,000 people, 200 apps, steady state in a process of its own, beside the parse floor (read + yaml.parse each file)',
  );
  steadyPlan(big, '100k', 3, 400);
  console.log(
    'serve: 100 grants of the 100,000-grant repository end within one minute (in-process apps, system clock)',
  );
  const serve = child('serve-scale-child.mjs', big);
  const late = serve.lateness;
  const cpu = serve.timerRuns.map((r) => r.cpuMs);
  console.log(
    `  removed ${late.length} of 100 (${serve.missing} missing) after their instant: median ${late.length ? median(late) : '-'} ms (target <= 1,000 ms): ${verdict(late.length === 100 && median(late) <= 1000)}; max ${late.length ? Math.max(...late) : '-'} ms (target <= 2,000 ms): ${verdict(late.length === 100 && Math.max(...late) <= 2000)}`,
  );
  console.log(
    `  ${cpu.length} timer runs: CPU median ${cpu.length ? s(median(cpu)) : '-'}, max ${cpu.length ? s(Math.max(...cpu)) : '-'} (target < 0.5 s): ${verdict(cpu.length > 0 && Math.max(...cpu) < 500)}; peak ${serve.rssMb.toFixed(0)} MB`,
  );
  if (sizes.includes('1m')) {
    const huge = grantsRepo('1m');
    console.log('plan: 1,000,000 grants, 100,000 people, 2,000 apps, default heap, beside the parse floor');
    steadyPlan(huge, '1m', 1, 2048);
  }
  console.log('');
}

/**
 * The plan's row: plan-child.mjs applies everything to empty in-process apps (the first run,
 * its peak printed) and keeps what they then hold; plan-steady-child.mjs plans once in a
 * process of its own against apps holding that (in a process of theirs), beside the parse floor, in turns.
 */
export function steadyPlan(dir, size, pairs, targetMb) {
  const kept = join(tmpdir(), `iden-bench-plan-apps-${size}.jsonl`);
  const first = child('plan-child.mjs', dir, kept);
  console.log(
    `  first run and apply: ${first.apply.changes.toLocaleString('en')} changes in ${first.apply.calls.toLocaleString('en')} calls (minimum ${first.apply.minimum.toLocaleString('en')}), ${first.rssMb.toFixed(0)} MB peak with both runs and the apps in one process`,
  );
  const runs = Array.from({ length: pairs }, () => [
    child('plan-steady-child.mjs', dir, kept),
    floorOf(dir, size),
  ]);
  const ratio = median(runs.map(([p, f]) => p.ms / f.ms));
  const [p, f] = runs[0];
  console.log(
    `  steady plan ${s(p.ms)}, ${p.rssMb.toFixed(0)} MB peak (the apps in a process of their own; target <= ${targetMb.toLocaleString('en')} MB): ${verdict(p.rssMb <= targetMb)}; floor ${s(f.ms)}: ${ratio.toFixed(2)}x (pairs ${runs.map(([a, b]) => (a.ms / b.ms).toFixed(2)).join(', ')}; target <= 1.0x): ${verdict(ratio <= 1)}`,
  );
}

/** The parse floor; at 1M it takes minutes, and IDEN_BENCH_FLOOR_MS may give one measured earlier (as the views bench takes). */
function floorOf(dir, size) {
  const given = Number(process.env.IDEN_BENCH_FLOOR_MS);
  return size === '1m' && given > 0 ? { ms: given } : child('floor.mjs', dir);
}
