// npm run bench: each figure beside its floor and the target its issue names.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRepo } from './generate.mjs';

const only = process.argv[2];
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
console.log(`iden benchmarks on ${machine}\n`);

function child(script, ...args) {
  const out = execFileSync(process.execPath, [join(import.meta.dirname, script), ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop());
}

function best(runs, f) {
  const results = Array.from({ length: runs }, f);
  return results.sort((a, b) => a.ms - b.ms)[0];
}

const big = generateRepo(join(tmpdir(), 'iden-bench-100k'), { people: 10_000, apps: 200, grants: 100_000 });

/** The median of a list of numbers. */
const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/**
 * Runs a and b in turn, n times, on this noisy shared machine: the ratio of
 * each pair is measured in the same moment, and the median of those is the figure.
 */
function paired(n, a, b) {
  const as = [];
  const bs = [];
  const ratios = [];
  for (let i = 0; i < n; i++) {
    const x = a(i);
    const y = b(i);
    as.push(x);
    bs.push(y);
    ratios.push(x.ms / y.ms);
  }
  const pick = (rs) => rs.slice().sort((x, y) => x.ms - y.ms)[Math.floor(rs.length / 2)];
  return { a: pick(as), b: pick(bs), ratio: median(ratios), ratios };
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');

/** Makes a generated repository a git repository (once) with a settled index, so git can vouch for its files. */
function asGitRepo(dir) {
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
  return git;
}

/** A branch `pr` adding one grant file to main, made with git plumbing so the work tree is untouched. */
function onePullRequest(dir, git) {
  const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
    cwd: dir,
    input:
      'user: person-09999\napp: app-000\npermissions: [ent-1]\nlicense: standard\nreason: Ticket ACC-1\n',
    encoding: 'utf8',
  }).trim();
  const env = { ...process.env, GIT_INDEX_FILE: join(dir, '.git', 'bench-index') };
  const run = (...args) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  run('read-tree', 'main');
  run('update-index', '--add', '--cacheinfo', `100644,${blob},grants/app-000/person-09999.yaml`);
  const tree = run('write-tree');
  const commit = run(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.com',
    'commit-tree',
    tree,
    '-p',
    'main',
    '-m',
    'one grant',
  );
  git('update-ref', 'refs/heads/pr', commit);
}

/** iden check-pr of the `pr` branch against main, authored by gh-person-00001. */
const checkPr = (dir) =>
  child(
    'cli-child.mjs',
    ...['check-pr', '--repo', dir, '--base', 'main', '--head', 'pr', '--author', 'gh-person-00001'],
    ...['--format', 'json'],
  );

if (!only || only === 'validate') {
  console.log('validate: 100,000 grants, 10,000 people, 200 apps (half licensed), a git work tree');
  const git = asGitRepo(big);
  const cold = () => {
    rmSync(join(big, '.iden'), { recursive: true, force: true });
    return child('validate-child.mjs', big);
  };
  const c = paired(3, cold, () => child('floor.mjs', big));
  console.log(
    `  floor (read + yaml.parse each file, one thread): ${fmt(c.b.ms)}, ${c.b.rssMb.toFixed(0)} MB`,
  );
  console.log(
    `  validate, cold (no cache):  ${fmt(c.a.ms)}, ${c.a.rssMb.toFixed(0)} MB peak; ${c.ratio.toFixed(2)}x floor (pairs ${c.ratios.map((r) => r.toFixed(2)).join(', ')}; target <= 0.60x): ${verdict(c.ratio <= 0.6)}`,
  );
  console.log(`  peak ${c.a.rssMb.toFixed(0)} MB (target <= 400 MB): ${verdict(c.a.rssMb <= 400)}`);
  // Warm: the second run, one file changed since the cache was made.
  const changed = join(big, 'grants', 'app-007', 'person-00300.yaml');
  const original = readFileSync(changed, 'utf8');
  child('validate-child.mjs', big);
  const w = paired(
    3,
    (i) => {
      writeFileSync(changed, `${original}# changed ${i}\n`);
      return child('validate-child.mjs', big);
    },
    () => child('floor.mjs', big),
  );
  writeFileSync(changed, original);
  console.log(
    `  validate, warm (cache, one file changed): ${fmt(w.a.ms)}, ${w.a.rssMb.toFixed(0)} MB peak; ${w.ratio.toFixed(2)}x floor (pairs ${w.ratios.map((r) => r.toFixed(2)).join(', ')}; target <= 0.25x): ${verdict(w.ratio <= 0.25)}`,
  );

  // check-pr of a pull request adding one grant file, beside validate of the whole repository.
  onePullRequest(big, git);
  const p = paired(3, () => checkPr(big), cold);
  console.log(
    `  check-pr, one new grant file: ${fmt(p.a.ms)}, ${p.a.rssMb.toFixed(0)} MB peak; ${p.ratio.toFixed(2)}x cold validate (pairs ${p.ratios.map((r) => r.toFixed(2)).join(', ')}; target <= 0.30x): ${verdict(p.ratio <= 0.3)}; memory target <= 400 MB: ${verdict(p.a.rssMb <= 400)}`,
  );

  // Whole processes, start to exit, beside node doing nothing.
  const bin = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'bin.js');
  const example = join(import.meta.dirname, '..');
  const spawnMs = (args) => {
    const started = performance.now();
    execFileSync(process.execPath, args, { cwd: example, stdio: 'ignore' });
    return { ms: performance.now() - started };
  };
  const nothing = () => spawnMs(['-e', '0']);
  const help = paired(7, () => spawnMs([bin, '--help']), nothing);
  console.log(
    `  iden --help: ${help.a.ms.toFixed(0)} ms vs node -e 0 ${help.b.ms.toFixed(0)} ms: ${help.ratio.toFixed(2)}x (target <= 2.5x): ${verdict(help.ratio <= 2.5)}`,
  );
  const small = paired(7, () => spawnMs([bin, 'validate', '--at', '2026-11-27']), nothing);
  console.log(
    `  iden validate, the example: ${small.a.ms.toFixed(0)} ms vs node -e 0 ${small.b.ms.toFixed(0)} ms: ${small.ratio.toFixed(2)}x (target <= 4x): ${verdict(small.ratio <= 4)}`,
  );

  // Scaling: cold validate at 10k, 100k and 200k grant files.
  console.log('  scaling (cold validate):');
  for (const [grants, people, apps] of [
    [10_000, 1_000, 20],
    [100_000, 10_000, 200],
    [200_000, 20_000, 400],
  ]) {
    const dir =
      grants === 100_000
        ? big
        : generateRepo(join(tmpdir(), `iden-bench-${grants / 1000}k`), { people, apps, grants });
    rmSync(join(dir, '.iden'), { recursive: true, force: true });
    const r = child('validate-child.mjs', dir);
    console.log(
      `    ${String(grants).padStart(7)} files: ${fmt(r.ms)}, ${r.rssMb.toFixed(0)} MB peak; ${((r.ms / grants) * 1000).toFixed(1)} µs a file`,
    );
  }
  console.log('');
}

if (!only || only === 'grant') {
  // iden grant of one file, beside check-pr of a pull request adding one file: the same reading
  // (settings, people, apps, one app's folder) and validation, plus git and the summary.
  console.log('grant: one new grant file in the 100,000-file repository (--no-pr --yes)');
  const git = asGitRepo(big);
  onePullRequest(big, git);
  const g = paired(
    3,
    () => {
      const r = child(
        'cli-child.mjs',
        ...['grant', '--repo', big, '--app', 'app-000', '--user', 'person-09998', '--permission', 'ent-1'],
        ...[
          '--license',
          'standard',
          '--no-pr',
          '--yes',
          '--as',
          'gh-person-00001',
          '--branch',
          'bench-grant',
        ],
      );
      git('branch', '-D', 'bench-grant');
      if (r.code !== 0) throw new Error(`iden grant exited ${r.code}`);
      return r;
    },
    () => checkPr(big),
  );
  console.log(
    `  iden grant: ${fmt(g.a.ms)}, ${g.a.rssMb.toFixed(0)} MB peak; check-pr of one new file ${fmt(g.b.ms)}: ${g.ratio.toFixed(2)}x (pairs ${g.ratios.map((r) => r.toFixed(2)).join(', ')}; no target named)`,
  );
  console.log('');
}

if (!only || only === 'plan') {
  console.log('plan: the same repository against in-process apps (pages of 1,000)');
  const validate = best(3, () => child('validate-child.mjs', big));
  const run = best(2, () => child('plan-child.mjs', big));
  const ratio = run.ms / validate.ms;
  console.log(`  validate (load, schemas, rules):     ${(validate.ms / 1000).toFixed(2)} s`);
  console.log(
    `  plan (validate, observe, diff):      ${(run.ms / 1000).toFixed(2)} s, ${run.rssMb.toFixed(0)} MB peak; ${run.changes} changes, ${run.drift} drift`,
  );
  console.log(`  ratio ${ratio.toFixed(2)}x validate (target <= 1.50x): ${ratio <= 1.5 ? 'met' : 'MISSED'}`);
  console.log(
    `  plan calls: ${run.calls} observe pages, minimum ${run.minimum}: ${run.calls === run.minimum ? 'met' : 'MISSED'}`,
  );
  const a = run.apply;
  console.log(
    `  first apply: ${a.changes} changes in ${a.calls} calls (observe pages + one per account batch), minimum ${a.minimum}: ${a.calls === a.minimum ? 'met' : 'MISSED'}\n`,
  );
}

if (!only || only === 'plan' || only === 'embedded') {
  // 200 apps, each an embedded PostgreSQL (PGlite) under .iden/, 20 grants each.
  const dir = generateRepo(join(tmpdir(), 'iden-bench-embedded-200'), {
    people: 4_000,
    apps: 200,
    grants: 4_000,
    embedded: true,
  });
  rmSync(join(dir, '.iden'), { recursive: true, force: true });
  // Not a git repository: without the opt-out apply-time verification would hold every grant and apply nothing.
  const settings = join(dir, 'grants', '_settings.yaml');
  if (!readFileSync(settings, 'utf8').includes('verifyMerges'))
    appendFileSync(settings, 'policy: { verifyMerges: false }\n');
  console.log('plan: 200 apps, each an embedded PostgreSQL, 4,000 grants');
  const first = child('embedded-child.mjs', dir, 'plan');
  const apply = child('embedded-child.mjs', dir, 'apply');
  const disk =
    Number(execFileSync('du', ['-sk', join(dir, '.iden')], { encoding: 'utf8' }).split('\t')[0]) / 1024;
  const second = child('embedded-child.mjs', dir, 'plan');
  const memory = child('embedded-child.mjs', dir, 'plan', 'memory');
  const row = (name, r) =>
    console.log(
      `  ${name.padEnd(44)} ${(r.ms / 1000).toFixed(1).padStart(6)} s, ${r.rssMb.toFixed(0).padStart(5)} MB peak${r.applied ? `; ${r.applied} granted` : ''}`,
    );
  row('first plan (no database yet: nothing to open)', first);
  row('first apply (200 databases made from the template)', apply);
  row('second plan (200 databases observed, 3 at a time)', second);
  row('the same plan against in-memory apps', memory);
  const peak = Math.max(first.rssMb, apply.rssMb, second.rssMb);
  console.log(`  disk: ${disk.toFixed(0)} MB under .iden/ (${(disk / 200).toFixed(1)} MB a database)`);
  console.log(`  peak ${peak.toFixed(0)} MB (target <= 1024 MB): ${peak <= 1024 ? 'met' : 'MISSED'}\n`);
}

if (!only || only === 'audit') {
  const { generateHistory } = await import('./generate-history.mjs');
  const history = generateHistory(join(tmpdir(), 'iden-bench-history'), {
    commits: 10_000,
    files: 2_000,
    apps: 20,
  });
  console.log('audit: a history of 10,000 commits over 2,000 grant files');
  const run = best(3, () => {
    const r = child('audit-child.mjs', history);
    return { ...r, ms: r.personMs };
  });
  console.log(
    `  floor (one git log --raw of grants/):  ${(run.floorMs / 1000).toFixed(2)} s over ${run.commits} commits`,
  );
  console.log(
    `  one person's audit:                   ${(run.personMs / 1000).toFixed(2)} s, ${run.personEvents} events (target < 2 s): ${run.personMs < 2000 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  --as-of, whole repository:            ${(run.asOfMs / 1000).toFixed(2)} s, ${run.asOfAccess} grants active (target < 5 s): ${run.asOfMs < 5000 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  whole timeline (every person):        ${(run.allMs / 1000).toFixed(2)} s, ${run.allEvents} events\n`,
  );
}

if (!only || only === 'github') {
  console.log(
    'github: 2,000 changes against the GitHub test server, 20 ms a request, writes one at a time (content limits off, as on an Enterprise Server without rate limiting)',
  );
  const run = child('github-child.mjs');
  console.log(
    `  ${run.changes} changes (${run.failed} failed, ${run.errors} responses off the spec) in ${(run.ms / 1000).toFixed(1)} s wall`,
  );
  console.log(
    `  calls: ${run.calls} (${run.observeCalls} to observe), minimum ${run.minimum} (observe pages, one per team or repository change, one Copilot batch): ${run.calls === run.minimum ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  floor at 20 ms a call, one at a time: ${((run.minimum * 20) / 1000).toFixed(1)} s (the rest is octokit and the test server's request validation)\n`,
  );
}

if (!only || only === 'scim') {
  console.log('scim: 1,000 people joining 20 groups through the SCIM connector against SCIMMY on loopback');
  const run = child('scim-child.mjs');
  console.log(`  ${run.changes} changes (${run.failed} failed) in ${(run.ms / 1000).toFixed(1)} s wall`);
  console.log(
    `  requests: ${run.requests}, minimum ${run.minimum} (${run.pages} reads: the configuration, the Users to an empty page, a filter per group; one per user created, one PATCH per group): ${run.requests === run.minimum ? 'met' : 'MISSED'}\n`,
  );
}

if (!only || only === 'rules') {
  execFileSync(process.execPath, [join(import.meta.dirname, 'rules.mjs')], { stdio: 'inherit' });
}

if (!only || only === 'verify') {
  // Its own script: it serves the loopback GitHub from its own event loop while iden runs.
  execFileSync(process.execPath, [join(import.meta.dirname, 'verify.mjs')], { stdio: 'inherit' });
  console.log('');
}

if (!only || only === 'ldap') {
  console.log(
    'ldap: 10,000 people joining 50 groups through the ldap connector against a real OpenLDAP slapd on loopback, then 100 of them moving to the next group',
  );
  const { first, moved } = child('ldap-child.mjs');
  for (const [what, run] of [
    ['first run', first],
    ['the move', moved],
  ]) {
    const total = run.reads + run.writes;
    const minimum = run.minimumReads + run.minimumWrites;
    console.log(
      `  ${what}: ${run.changes} changes (${run.failed} failed) in ${(run.ms / 1000).toFixed(1)} s; requests ${total} (${run.reads} reads, ${run.writes} writes), minimum ${minimum} (a bind, one read per group, the people 500 a page; one modify per group changed, where a write per group in each phase would be ${run.phasedWrites}): ${total === minimum ? 'met' : 'MISSED'}`,
    );
  }
  console.log('');
}

if (!only || only === 'okta') {
  console.log(
    "okta: 5,000 people in 100 groups (two groups each) against the Okta test server at Okta's published Workforce limits, iden using half of each bucket",
  );
  const r = child('okta-child.mjs');
  const line = (name, run, floor) =>
    console.log(
      `  ${name}: ${run.changes} changes (${run.failed} failed), ${run.calls} calls (${run.observeCalls} to observe, ${run.lookups} user lookups, ${run.writes} writes), minimum ${run.minimum} (${floor}): ${run.calls === run.minimum ? 'met' : 'MISSED'}; ${run.minutes.toFixed(1)} min at the published limits (computed), ${(run.realMs / 1000).toFixed(1)} s on loopback`,
    );
  line(
    'first apply',
    r.first,
    'group searches, one page of members per group, the rules, a search per 50 logins, one write per membership',
  );
  line('nothing to do', r.second, 'the reads alone');
  line('1% move group', r.churn, 'the reads, one write per change');
  console.log(
    `  ${r.errors} requests or responses off Okta's description; writes to /api/v1/groups at ${r.groupLimit / 2} a minute: ${((2 * r.people) / (r.groupLimit / 2)).toFixed(0)} min for ${2 * r.people} memberships\n`,
  );
}

if (!only || only === 'google-workspace') {
  console.log(
    'google-workspace: 5,000 people in 100 groups (50 each), each with a licence, against the loopback Google (every request checked against the Discovery documents)',
  );
  const r = child('google-workspace.mjs');
  const row = (name, run, min) =>
    console.log(
      `  ${name}: ${run.changes} changes (${run.failed} failed); ${run.total.units} API requests as Google counts them (${run.observe.units} to read), minimum ${min.units}: ${verdict(run.total.units === min.units)}; ${run.total.http} HTTP requests (batches of up to 1,000), minimum ${min.http}: ${verdict(run.total.http === min.http)}; paced wall time at 2,400 requests a minute per API ${fmt(run.pacedMs)} (computed on a virtual clock), ${fmt(run.ms)} on loopback`,
    );
  row('first apply (nothing held yet)', r.first, r.minimum.first);
  row('next plan (nothing to change)', r.second, r.minimum.second);
  console.log(
    `  quota floor for the first apply's ${r.directoryUnits.toLocaleString('en')} Directory API requests at 2,400 a minute: ${fmt(r.floorMs)}; requests or responses off the description: ${r.errors}\n`,
  );
  console.log('');
}

if (!only || only === 'entra') {
  console.log(
    'entra: 5,000 people, each in a group, an app role and an E3 licence, through the entra connector against the loopback Entra test server',
  );
  const run = child('entra-child.mjs');
  const row = (name, r, what) =>
    console.log(
      `  ${name}: ${r.changes} changes (${r.failed} failed) in ${(r.ms / 1000).toFixed(1)} s; calls ${r.observe + r.apply} (${r.observe} to observe), minimum ${r.floor} (${what}): ${r.observe + r.apply === r.floor ? 'met' : 'MISSED'}; one request a call: ${r.operations}`,
    );
  row('first run', run.first, 'two rounds of reads, the accounts 15 to a filter, 20 writes a batch');
  row('second run', run.steady, 'the lists, then three chains of six pages of 999 side by side');
  row('100 leave, 100 join', run.churn, 'the same reads, the new accounts, grants then removals 20 a batch');
  console.log(`  tokens: ${run.tokens}; requests or responses off Graph's description: ${run.errors}\n`);
  console.log('');
}

if (!only || only === 'aws-identity-center') {
  console.log(
    'aws-identity-center: 5,000 people in a group, 1,000 of them a permission set in 3 accounts, against the loopback Identity Center',
  );
  const r = child('aws-identity-center.mjs');
  // The pacing alone, at the default 10 requests a second: a real run takes at least this, plus AWS's own work.
  const paced = (calls) => `${Math.floor(calls / 10 / 60)} min ${Math.round((calls / 10) % 60)} s`;
  const row = (name, run, minimum) =>
    console.log(
      `  ${name}: ${run.calls.toLocaleString('en')} calls (${run.observeCalls} to observe), minimum ${minimum.toLocaleString('en')}: ${verdict(run.calls === minimum)}; ${run.changes.toLocaleString('en')} changes, ${run.failed} failed; ${fmt(run.ms)} on loopback; paced at 10 requests a second (AWS allows 20 in all): at least ${paced(run.calls)} against AWS`,
    );
  row('first run', r.first, r.firstMinimum);
  console.log(`    ${JSON.stringify(r.first.byOperation)}`);
  row('nothing to do', r.second, r.secondMinimum);
  console.log(`    ${JSON.stringify(r.second.byOperation)}`);
  if (r.errors > 0)
    console.log(`  the test server found ${r.errors} problems with requests or responses: MISSED`);
}

if (!only || only === 'views') {
  execFileSync(process.execPath, [join(import.meta.dirname, 'views.mjs')], { stdio: 'inherit' });
}

if (!only || only === 'serve') {
  console.log('serve: 20 grants starting or ending 2 s apart, one embedded PostgreSQL app');
  const { lateness, timers, runs } = child('serve-child.mjs');
  const mid = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `  applied ${lateness.length} of 20 changes after their instant: median ${mid(lateness)} ms, max ${Math.max(...lateness)} ms (target: within 1,000 ms): ${lateness.length === 20 && Math.max(...lateness) <= 1000 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  the timer firing after the instant: median ${mid(timers)} ms, max ${Math.max(...timers)} ms`,
  );
  console.log(
    `  the run it starts (read the commit, open and observe the embedded database, apply, record): median ${mid(runs)} ms: the app's own latency\n`,
  );
}

if (!only || only === 'postgres-apply') await (await import('./postgres-apply.mjs')).postgresApplyBench();
if (!only || only === 'audit-floor') await (await import('./audit-floor.mjs')).auditFloorBench();
if (!only || only === 'hist') (await import('./hist.mjs')).histBench(process.argv.slice(3));
