// iden serve on the 100,000-grant repository: once it has applied everything, a commit
// gives 100 grants ends within the same minute; each must be removed about when it ends.
// The daemon runs in this process on the system clock against in-process apps (so the
// figure is iden's own cost, not a database's). argv: <repository made by generate.mjs,
// committed on main>. Prints JSON {lateness: [ms...], timerRuns: [{ms, cpuMs}...], pulled}.
// IDEN_BENCH_TRACE=1 prints the daemon's log; IDEN_BENCH_PROFILE=<folder> writes a CPU
// profile of each timer run there (the profiler's start costs about a second a run, so
// figures taken with it are not the bench's).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../dist/src/serve/daemon.js';
import { memoryConnector } from './memory-connector.mjs';

const [source, count = '100'] = process.argv.slice(2);
const ends = Number(count);
const work = mkdtempSync(join(tmpdir(), 'iden-bench-serve-scale-'));
const bare = join(work, 'origin.git');
const clone = join(work, 'clone');
const git = (cwd, args, options = {}) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, ...options }).trim();
git(work, ['clone', '-q', '--bare', '--local', source, bare]);
// No GitHub behind it: apply-time verification off, as in the example; removals unlimited (the bench removes 100).
commitFiles(
  new Map([
    [
      'grants/_settings.yaml',
      'timezone: Europe/Berlin\nlimits:\n  maxRemovals: 1000000\n  maxRemovalShare: 1\npolicy: { verifyMerges: false }\n',
    ],
  ]),
  'No GitHub here',
);
git(work, ['clone', '-q', bare, clone]);

/** A commit on origin's main changing these files, made with plumbing (no work tree to check out). */
function commitFiles(files, message) {
  const env = { ...process.env, GIT_INDEX_FILE: join(work, 'bench-index') };
  git(bare, ['read-tree', 'main'], { env });
  for (const [path, text] of files) {
    const blob = git(bare, ['hash-object', '-w', '--stdin'], { input: text });
    git(bare, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
  }
  const tree = git(bare, ['write-tree'], { env });
  const commit = git(bare, [
    ...['-c', 'user.name=bench', '-c', 'user.email=bench@example.com'],
    ...['commit-tree', tree, '-p', 'main', '-m', message],
  ]);
  git(bare, ['update-ref', 'refs/heads/main', commit]);
}

/** CPU ms of this process and of the git processes it waited for. */
function cpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const own = process.cpuUsage();
  return (own.user + own.system) / 1000 + (Number(fields[13]) + Number(fields[14])) * 10;
}

const { connector } = memoryConnector();
const wanted = new Map(); // `${app}\0${user}` -> end instant
const lateness = [];
const timerRuns = [];
const allRuns = [];
let current;
let firstRun;
const firstDone = new Promise((resolve) => {
  firstRun = resolve;
});
let allRemoved;
const removed = new Promise((resolve) => {
  allRemoved = resolve;
});
// IDEN_BENCH_PROFILE=<folder>: a CPU profile of each timer run, from its timer to the next timer set.
const profiles = process.env.IDEN_BENCH_PROFILE;
const inspector = profiles ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  inspector.post('Profiler.enable');
}
let profiling = false;
let profiled = 0;
const log = (_level, msg, fields = {}) => {
  const now = Date.now();
  // IDEN_BENCH_TRACE=1: the daemon's log on stderr (the first run's 240,000 grants left out).
  if (process.env.IDEN_BENCH_TRACE && !(msg === 'change' && fields.action === 'grant'))
    console.error(new Date(now).toISOString(), msg, JSON.stringify(fields));
  if (inspector && msg === 'timer' && !profiling) {
    profiling = true;
    inspector.post('Profiler.start');
  }
  if (inspector && msg === 'timer set' && profiling) {
    profiling = false;
    const n = ++profiled;
    // The session answers in this same call: the next timer's profile starts after this one ends.
    inspector.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(profiles, `timer-${n}.cpuprofile`), JSON.stringify(result.profile));
    });
  }
  if (msg === 'run') current = { why: fields.why, started: performance.now(), cpu: cpu() };
  if (msg === 'run finished' && current) {
    const run = { why: current.why, ms: performance.now() - current.started, cpuMs: cpu() - current.cpu };
    allRuns.push(run);
    if (String(run.why).startsWith('grants start or end')) timerRuns.push(run);
    current = undefined;
    firstRun();
  }
  if (msg === 'change' && fields.action === 'revoke') {
    const end = wanted.get(`${fields.app}\u0000${fields.user}`);
    if (end !== undefined && now >= end) {
      wanted.delete(`${fields.app}\u0000${fields.user}`);
      lateness.push(now - end);
      if (lateness.length === ends) allRemoved();
    }
  }
};

const started = performance.now();
const daemon = await startDaemon({
  root: clone,
  pullMs: 1000,
  schedule: '0 0 1 1 *',
  listen: '127.0.0.1:0',
  push: false,
  env: {},
  clock: (await import('../dist/src/model/clock.js')).systemClock,
  registry: { postgres: connector },
  log,
  lockTimeoutMs: 0,
});
await firstDone;
await daemon.idle();
const startup = { ms: performance.now() - started, run: allRuns[0] };

// 100 grants, one in each of 100 apps, end within the same minute, once the daemon has pulled,
// read and run the commit that says so: three times its first run from now (a loaded machine is slow).
const t0 = Math.ceil(Date.now() / 1000) * 1000 + Math.max(45_000, Math.ceil(3 * startup.run.ms));
const files = new Map();
for (let a = 0; a < ends; a++) {
  const app = `app-${String(a).padStart(3, '0')}`;
  const path = `grants/${app}/${git(bare, ['ls-tree', '--name-only', `main:grants/${app}`]).split('\n')[1]}`;
  const text = git(bare, ['show', `main:${path}`]);
  const end = t0 + Math.floor((a * 60_000) / ends / 1000) * 1000;
  const user = /^user: (.*)$/m.exec(text)[1];
  wanted.set(`${app}\u0000${user}`, end);
  const iso = new Date(end).toISOString().replace('.000Z', 'Z');
  files.set(path, `${text.replace(/^end: .*\n?/m, '').trimEnd()}\nend: ${iso}\n`);
}
commitFiles(files, `${ends} grants end within a minute`);
const deadline = setTimeout(allRemoved, t0 - Date.now() + 180_000);
await removed;
clearTimeout(deadline);
await daemon.stop();
rmSync(work, { recursive: true, force: true });
console.log(
  JSON.stringify({
    startup,
    lateness,
    missing: wanted.size,
    timerRuns,
    runs: allRuns.length,
    rssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
