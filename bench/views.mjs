// npm run bench views: validate (cold, warm), check-pr, grant, access (whole,
// --app, --user), upcoming and report on 10k, 100k and 1M grants, each beside
// the parse floor (read + yaml.parse of every file, one thread) measured in the
// same moment, with its peak memory. IDEN_BENCH_SIZES=10k,100k leaves out 1M
// (its repository takes ~8 minutes to generate the first time, under /tmp).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { viewsRepo } from './views-repo.mjs';

const sizes = (process.env.IDEN_BENCH_SIZES ?? '10k,100k,1m').split(',');
const AT = '2026-11-27T12:00:00Z';
/** IDEN_BENCH_FLOOR=off: the figures and memory alone (how memory grows), no floor beside them. */
const noFloor = process.env.IDEN_BENCH_FLOOR === 'off';

function child(script, ...args) {
  const out = execFileSync(process.execPath, [join(import.meta.dirname, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split('\n').pop());
}
const cli = (...args) => {
  const r = child('views-child.mjs', ...args);
  if (r.code !== 0) throw new Error(`iden ${args.join(' ')} exited ${r.code}`);
  return r;
};
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');

/** A branch `pr` adding one grant file to main, made with plumbing so the work tree is untouched. */
function onePullRequest(dir) {
  const run = (args, input) =>
    execFileSync('git', args, {
      cwd: dir,
      input,
      env: { ...process.env, GIT_INDEX_FILE: join(dir, '.git', 'bench-index') },
      encoding: 'utf8',
    }).trim();
  const blob = run(
    ['hash-object', '-w', '--stdin'],
    'user: person-00999\napp: app-001\npermissions: [ent-1]\nreason: Ticket ACC-1\n',
  );
  run(['read-tree', 'main']);
  run(['update-index', '--add', '--cacheinfo', `100644,${blob},grants/app-001/person-00999.yaml`]);
  const tree = run(['write-tree']);
  const id = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com' };
  const commit = execFileSync('git', ['commit-tree', tree, '-p', 'main', '-m', 'one grant'], {
    cwd: dir,
    env: { ...process.env, ...id, GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' },
    encoding: 'utf8',
  }).trim();
  execFileSync('git', ['update-ref', 'refs/heads/pr', commit], { cwd: dir });
}

const rows = [];
for (const size of sizes) {
  const dir = viewsRepo(size);
  onePullRequest(dir);
  const pairs = size === '1m' || noFloor ? 1 : 3;
  console.log(`views at ${size} grants (${dir}), ${pairs} pair${pairs === 1 ? '' : 's'} a row, medians`);
  const site = join(tmpdir(), `iden-bench-report-${size}`);
  const work = {
    'validate, cold': () => {
      rmSync(join(dir, '.iden'), { recursive: true, force: true });
      return child('validate-child.mjs', dir);
    },
    'validate, warm': () => {
      // The second run, one file changed since the cache was made.
      const changed = join(dir, 'grants', 'app-007', 'person-00300.yaml');
      const original = readFileSync(changed, 'utf8');
      child('validate-child.mjs', dir);
      writeFileSync(changed, `${original}# changed\n`);
      try {
        return child('validate-child.mjs', dir);
      } finally {
        writeFileSync(changed, original);
      }
    },
    'check-pr, one new file': () =>
      child(
        'views-child.mjs',
        'check-pr',
        '--repo',
        dir,
        '--base',
        'main',
        '--head',
        'pr',
        '--author',
        'gh-person-00001',
        '--format',
        'json',
      ),
    'grant, one new file': () => {
      // Validate rewrote a file and put it back: let git see it is unchanged.
      execFileSync('git', ['update-index', '-q', '--refresh'], { cwd: dir, stdio: 'ignore' });
      const r = cli(
        ...['grant', '--repo', dir, '--app', 'app-001', '--user', 'person-00998', '--permission', 'ent-1'],
        ...['--no-pr', '--yes', '--as', 'gh-person-00001', '--branch', 'bench-grant'],
      );
      execFileSync('git', ['branch', '-D', 'bench-grant'], { cwd: dir, stdio: 'ignore' });
      return r;
    },
    access: () => cli('access', '--repo', dir, '--at', AT, '--format', 'json'),
    'access --app': () => cli('access', '--repo', dir, '--at', AT, '--app', 'app-002', '--format', 'json'),
    'access --user': () =>
      cli('access', '--repo', dir, '--at', AT, '--user', 'person-00042@example.com', '--format', 'json'),
    upcoming: () => cli('upcoming', '--repo', dir, '--at', AT, '--within', '30d', '--format', 'json'),
    report: () => {
      rmSync(site, { recursive: true, force: true });
      const r = cli('report', '--repo', dir, '--at', AT, '--out', site);
      const pages = JSON.parse(
        execFileSync(process.execPath, [join(import.meta.dirname, 'site-size.mjs'), site], {
          encoding: 'utf8',
        }),
      );
      const browser = JSON.parse(
        execFileSync(
          process.execPath,
          [join(import.meta.dirname, 'report-browser.mjs'), site, 'person-00042'],
          {
            encoding: 'utf8',
          },
        ),
      );
      return { ...r, pages, browser };
    },
  };
  const targets = {
    'validate, warm': 0.25,
    'access --app': 0.1,
    'access --user': 0.1,
  };
  // At 1M the floor takes minutes: measured once before the rows and once after, the first the ratios' floor.
  let fixed;
  if (size === '1m') {
    // IDEN_BENCH_FLOOR_MS: a floor measured earlier on this machine (it takes minutes at 1M).
    const given = Number(process.env.IDEN_BENCH_FLOOR_MS);
    fixed = given > 0 ? { ms: given, rssMb: Number.NaN } : child('floor.mjs', dir);
    console.log(
      `  floor (read + yaml.parse every file, one thread), before: ${fmt(fixed.ms)}, ${fixed.rssMb.toFixed(0)} MB`,
    );
  }
  // IDEN_BENCH_ROWS=access,report: only the rows named (their names' first word).
  const wanted = process.env.IDEN_BENCH_ROWS?.split(',');
  for (const [name, run] of Object.entries(work)) {
    if (wanted && !wanted.includes(name) && !wanted.includes(name.split(/[ ,]/)[0])) continue;
    const ratios = [];
    const results = [];
    const floors = [];
    for (let i = 0; i < pairs; i++) {
      const a = run();
      const f = fixed ?? (noFloor ? { ms: Number.NaN, rssMb: Number.NaN } : child('floor.mjs', dir));
      results.push(a);
      floors.push(f);
      ratios.push(a.ms / f.ms);
    }
    const mid = (xs, key) => xs.slice().sort((x, y) => x[key] - y[key])[Math.floor(xs.length / 2)];
    const a = mid(results, 'ms');
    const f = mid(floors, 'ms');
    const ratio = ratios.slice().sort((x, y) => x - y)[Math.floor(ratios.length / 2)];
    const target = targets[name] ?? 1;
    const peak = Math.max(...results.map((r) => r.rssMb));
    const memOk = size !== '1m' || peak < 2048;
    rows.push({ size, name, ms: a.ms, floorMs: f.ms, ratio, rssMb: peak, target });
    console.log(
      `  ${name.padEnd(24)} ${fmt(a.ms).padStart(9)}, ${peak.toFixed(0).padStart(5)} MB peak; floor ${fmt(f.ms)} (${f.rssMb.toFixed(0)} MB): ${ratio.toFixed(2)}x (target <= ${target.toFixed(2)}x): ${verdict(ratio <= target)}${size === '1m' ? `; under 2 GB: ${verdict(memOk)}` : ''}${
        a.browser
          ? `; overview loads in Chromium in ${a.browser.loadMs.toFixed(0)} ms (target < 1,000 ms): ${verdict(a.browser.loadMs < 1000)}; search keystrokes median ${a.browser.keys
              .slice()
              .sort((x, y) => x - y)
              [Math.floor(a.browser.keys.length / 2)].toFixed(
                0,
              )} ms, max ${Math.max(...a.browser.keys).toFixed(0)} ms (target < 100 ms): ${verdict(Math.max(...a.browser.keys) < 100)}`
          : ''
      }${a.pages ? `; ${a.pages.files} files, ${(a.pages.bytes / 1e6).toFixed(0)} MB, largest page ${(a.pages.largest / 1e6).toFixed(2)} MB (${a.pages.largestPath}; target <= 2 MB): ${verdict(a.pages.largest <= 2e6)}; the list of what it wrote ${(a.pages.manifest / 1e6).toFixed(2)} MB (read by the next report, not the browser)` : ''}`,
    );
  }
  if (fixed && !(Number(process.env.IDEN_BENCH_FLOOR_MS) > 0)) {
    const after = child('floor.mjs', dir);
    console.log(
      `  floor after: ${fmt(after.ms)}, ${after.rssMb.toFixed(0)} MB (the ratios above are against the one before)`,
    );
  }
  rmSync(site, { recursive: true, force: true });
  console.log('');
}
if (sizes.length > 1) {
  console.log('  memory growth (peak MB at each size):');
  for (const name of new Set(rows.map((r) => r.name)))
    console.log(
      `    ${name.padEnd(24)} ${rows
        .filter((r) => r.name === name)
        .map((r) => `${r.size} ${r.rssMb.toFixed(0)}`)
        .join(' -> ')}`,
    );
}
