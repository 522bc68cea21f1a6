// iden plan on a long history, beside its floor: one `git log --first-parent --raw` of the branch.
// argv: <history repository> <first|steady>. Works on a clone of it with apply-time verification
// off (no GitHub here), so apply grants and records; apps are in-process. Prints JSON
// {floorMs, ms, rssMb, gitProcesses, changes, commits}.
import childProcess, { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { memoryConnector } from './memory-connector.mjs';

const [source, mode = 'first'] = process.argv.slice(2);
const dir = `${source}-plan`;
const git = (...args) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
if (!existsSync(join(dir, '.git'))) {
  execFileSync('git', ['clone', '-q', '--local', source, dir]);
  writeFileSync(join(dir, 'grants', '_settings.yaml'), 'timezone: UTC\npolicy: { verifyMerges: false }\n');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qam', 'No GitHub here');
  git('config', 'gc.auto', '0');
}
// Earlier runs' records and state go: each run of this child starts from the same place.
for (const ref of ['refs/notes/iden']) {
  try {
    git('update-ref', '-d', ref);
  } catch {}
}
execFileSync('rm', ['-rf', join(dir, '.iden'), join(dir, '.git', 'iden')]);

// Every git process iden starts, counted.
let gitProcesses = 0;
for (const name of ['spawn', 'execFile']) {
  const original = childProcess[name];
  childProcess[name] = function (command, ...rest) {
    if (command !== 'git') return original.call(this, command, ...rest);
    gitProcesses++;
    const child = original.call(this, command, ...rest);
    if (process.env.IDEN_BENCH_TRACE) {
      const started = performance.now();
      const args = Array.isArray(rest[0]) ? rest[0].join(' ') : '';
      child.once('close', () =>
        process.stderr.write(`git ${args.slice(0, 120)}: ${(performance.now() - started).toFixed(0)} ms\n`),
      );
    }
    return child;
  };
}
syncBuiltinESMExports();
const { main } = await import('../dist/src/cli/main.js');
const { systemClock } = await import('../dist/src/model/clock.js');

const { connector } = memoryConnector();
// The apps answer in this process: main's engine, not the embedded databases a postgres app without a host is.
const engine = { registry: { postgres: connector } };
const io = {
  clock: systemClock,
  stdout: () => undefined,
  stderr: () => undefined,
  env: {},
  cwd: dir,
  interactive: false,
  confirm: async () => false,
};
const at = ['--at', '2026-11-27T12:00:00Z'];
/** CPU time (ms) of this process and of the children it has waited for, from /proc (a loaded machine skews wall time). */
const cpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const tick = 10; // USER_HZ is 100 on Linux
  const own = process.cpuUsage();
  return { own: (own.user + own.system) / 1000, children: (Number(fields[13]) + Number(fields[14])) * tick };
};
const iden = async (...args) => {
  const before = gitProcesses;
  const c0 = cpu();
  const started = performance.now();
  const code = await main([...args, '--repo', dir, ...at], io, engine);
  const c1 = cpu();
  return {
    ms: performance.now() - started,
    cpuMs: c1.own - c0.own + c1.children - c0.children,
    code,
    gitProcesses: gitProcesses - before,
  };
};

const floor = () => {
  const c0 = cpu();
  const started = performance.now();
  const out = execFileSync(
    'git',
    ['log', '--first-parent', '--raw', '-z', '--no-abbrev', '--format=%x00%H', 'HEAD'],
    { cwd: dir, maxBuffer: 1 << 30 },
  );
  const ms = performance.now() - started;
  return { ms, cpuMs: cpu().children - c0.children, bytes: out.length };
};
const commits = Number(git('rev-list', '--count', 'HEAD').trim());

let run;
if (mode === 'first') run = await iden('plan', '--format', 'json');
else {
  // Steady state: everything applied and recorded, then a plan.
  const apply = await iden('apply', '--yes', '--no-push');
  if (apply.code !== 0) throw new Error(`iden apply exited ${apply.code}`);
  run = await iden('plan', '--format', 'json');
}
const f = floor();
console.log(
  JSON.stringify({
    floorMs: f.ms,
    ms: run.ms,
    floorCpuMs: f.cpuMs,
    cpuMs: run.cpuMs,
    code: run.code,
    rssMb: process.resourceUsage().maxRSS / 1024,
    gitProcesses: run.gitProcesses,
    commits,
  }),
);
