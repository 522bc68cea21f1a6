// npm run bench rules: what access rules cost validate. The 100,000-grant
// repository twice: as generated, and with a rule on every app (eligible by
// a people attribute, two approvals, privileged, directGrant: false,
// emergency), a rule of its own on one entitlement of each app, people with
// attributes (in both), and a hundred conflict pairs across apps. validate runs on each
// in turns, cold (no parse cache), and the figure is the median ratio, beside the floor:
// the repository without rules against itself in the same turns.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRepo } from './generate.mjs';

const size = { people: 10_000, apps: 200, grants: 100_000 };
const plain = generateRepo(join(tmpdir(), 'iden-bench-100k-norules'), size);
const ruled = generateRepo(join(tmpdir(), 'iden-bench-100k-rules'), size);

// Idempotent: each file is rewritten from what the generator wrote.
const settings = join(ruled, 'grants/_settings.yaml');
const base = readFileSync(join(plain, 'grants/_settings.yaml'), 'utf8');
const pairs = Array.from(
  { length: 100 },
  (_, i) => `  - [app-${String(i).padStart(3, '0')}:ent-9, app-${String(i + 1).padStart(3, '0')}:ent-9]`,
);
writeFileSync(
  settings,
  `${base}rules:\n  privileged: { approvals: 2 }\n  emergencyWindow: PT24H\nconflicts:\n${pairs.join('\n')}\n`,
);
// People with attributes in both: attributes are the directory's data, not rules, so the ratio is
// what the rules cost (the attributes written by an earlier run are taken out first).
const people = readFileSync(join(plain, 'grants/_people.yaml'), 'utf8')
  .replace(/ {4}attributes: \{ department: [^\n]*\n/g, '')
  .replace(
    /accounts: \{ github: (gh-person-(\d+)) \}\n/g,
    (_, login, n) =>
      `accounts: { github: ${login} }\n    attributes: { department: ${Number(n) % 2 ? 'engineering' : 'finance'}, manager: person-00002 }\n`,
  );
writeFileSync(join(ruled, 'grants/_people.yaml'), people);
writeFileSync(join(plain, 'grants/_people.yaml'), people);
for (let a = 0; a < size.apps; a++) {
  const app = `app-${String(a).padStart(3, '0')}`;
  const text = readFileSync(join(plain, 'grants', app, '_app.yaml'), 'utf8')
    .replace(
      '    kind: role\n    role: ',
      '    kind: role\n    rule: { approvals: 1, approvers: [manager], emergency: { maxDuration: PT4H } }\n    role: ',
    )
    .replace(
      'approvers: [person-00002]\n',
      'approvers: [person-00002]\nrule:\n  eligible: { attributes: { department: [engineering, finance] } }\n  privileged: true\n  directGrant: false\n  approvers: [person-00002, person-00003]\n',
    );
  writeFileSync(join(ruled, 'grants', app, '_app.yaml'), text);
}

const child = (dir) => {
  rmSync(join(dir, '.iden'), { recursive: true, force: true });
  const out = execFileSync(process.execPath, [join(import.meta.dirname, 'validate-child.mjs'), dir], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop());
};
const runs = Number(process.env.RULES_BENCH_RUNS ?? 11);
// Each turn also validates the repository without rules a second time: that pair's ratio is the
// floor, what this machine's noise alone makes of the same work (it is 1.00 on a quiet machine).
// The turn's order flips each time, so drift within a turn falls on both ratios alike.
const ratios = [];
const floors = [];
// The same in CPU time (the process's threads, user and system): under load a process gets a
// share of a core, which stretches its wall time, not the work it does.
const cpu = [];
const cpuFloors = [];
const a = [];
const b = [];
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? ['ruled', 'plain', 'again'] : ['again', 'plain', 'ruled'];
  const turn = {};
  for (const which of order) turn[which] = child(which === 'ruled' ? ruled : plain);
  a.push(turn.ruled);
  b.push(turn.plain);
  ratios.push(turn.ruled.ms / turn.plain.ms);
  floors.push(turn.again.ms / turn.plain.ms);
  cpu.push(turn.ruled.cpuMs / turn.plain.cpuMs);
  cpuFloors.push(turn.again.cpuMs / turn.plain.cpuMs);
}
const median = (xs) => xs.slice().sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const ratio = median(ratios);
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const list = (xs) => xs.map((r) => r.toFixed(3)).join(', ');
console.log('rules: validate on 100,000 grants with a rule on every app and 100 conflict pairs, cold');
console.log(`  without rules: ${fmt(median(b.map((r) => r.ms)))}, ${b[0].diagnostics} diagnostics`);
console.log(`  with rules:    ${fmt(median(a.map((r) => r.ms)))}, ${a[0].diagnostics} diagnostics`);
console.log(
  `  floor: without rules against itself in the same turns, ${median(floors).toFixed(3)} (pairs ${list(floors)})`,
);
console.log(
  `  in CPU time: ratio ${median(cpu).toFixed(3)} (pairs ${list(cpu)}), floor ${median(cpuFloors).toFixed(3)} (pairs ${list(cpuFloors)})`,
);
console.log(
  `  ratio ${ratio.toFixed(3)} (pairs ${list(ratios)}; target <= 1.10): ${ratio <= 1.1 ? 'met' : 'MISSED'}\n`,
);
