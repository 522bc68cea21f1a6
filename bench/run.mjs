// npm run bench: each figure beside its floor and the target its issue names.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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

if (!only || only === 'validate') {
  console.log('validate: 100,000 grants, 10,000 people, 200 apps (half licensed)');
  const floor = best(3, () => child('floor.mjs', big));
  const run = best(3, () => child('validate-child.mjs', big));
  const ratio = run.ms / floor.ms;
  console.log(
    `  floor (read + yaml.parse, one thread): ${(floor.ms / 1000).toFixed(2)} s, ${floor.rssMb.toFixed(0)} MB`,
  );
  console.log(
    `  iden validate:                        ${(run.ms / 1000).toFixed(2)} s, ${run.rssMb.toFixed(0)} MB peak`,
  );
  console.log(`  ratio ${ratio.toFixed(2)}x floor (target <= 1.30x): ${ratio <= 1.3 ? 'met' : 'MISSED'}`);
  console.log(
    `  peak ${run.rssMb.toFixed(0)} MB (target <= 400 MB): ${run.rssMb <= 400 ? 'met' : 'MISSED'}\n`,
  );
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
