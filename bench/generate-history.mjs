// Generates an access repository whose history has many commits touching many
// grant files, through one `git fast-import` (deterministic, a few seconds).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function generateHistory(dir, { commits = 10_000, files = 2_000, apps = 20 } = {}) {
  if (existsSync(join(dir, '.git', 'iden-generated-v2'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  // mulberry32: a small PRNG whose low bits are not periodic, unlike a plain LCG.
  let seed = 11;
  const random = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const perApp = files / apps;
  const people = Array.from({ length: perApp * 2 }, (_, i) => `person-${String(i).padStart(5, '0')}`);
  const appIds = Array.from({ length: apps }, (_, i) => `app-${String(i).padStart(2, '0')}`);
  const parts = [];
  let time = Date.parse('2024-01-01T00:00:00Z') / 1000;
  const blob = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const commit = (message, ops, author = 'Alice Martin <alice@example.com>') => {
    time += 3600;
    parts.push(
      `commit refs/heads/main\nauthor ${author} ${time} +0000\ncommitter ${author} ${time} +0000\n${blob(message)}${ops.join('')}`,
    );
  };
  const inline = (path, text) => `M 100644 inline ${path}\n${blob(text)}`;
  const setup = [
    inline('grants/_settings.yaml', 'timezone: UTC\n'),
    inline(
      'grants/_people.yaml',
      `people:\n${people.map((p) => `  - { id: ${p}, name: ${p}, email: ${p}@example.com }\n`).join('')}`,
    ),
    ...appIds.map((app) =>
      inline(
        `grants/${app}/_app.yaml`,
        `name: ${app}\nconnector: { type: postgres }\nentitlements:\n${Array.from({ length: 5 }, (_, e) => `  - { id: e${e}, kind: role, role: ${app.replace('-', '_')}_e${e} }\n`).join('')}`,
      ),
    ),
  ];
  commit('Set up the access repository', setup);
  const present = new Set();
  const grant = (app, user) => {
    const start = `2024-${String(1 + random(12)).padStart(2, '0')}-01`;
    const end = random(3) === 0 ? `end: 2026-${String(1 + random(12)).padStart(2, '0')}-01\n` : '';
    return `user: ${user}\napp: ${app}\npermissions: [e${random(5)}]\nstart: ${start}\n${end}reason: ACC-${random(100000)}\n`;
  };
  // Every file is granted once, then the rest of the history changes, removes and re-grants at random.
  const paths = appIds.flatMap((app, a) =>
    Array.from({ length: perApp }, (_, u) => [app, people[(a * 7 + u) % people.length]]),
  );
  for (let i = 1; i < commits; i++) {
    const [app, user] = i <= paths.length ? paths[i - 1] : paths[random(paths.length)];
    const path = `grants/${app}/${user}.yaml`;
    const action = present.has(path) ? (random(5) === 0 ? 'D' : 'M') : 'A';
    if (action === 'D') {
      present.delete(path);
      commit(`Remove ${user} from ${app} (#${i})`, [`D ${path}\n`]);
    } else {
      present.add(path);
      commit(`${action === 'A' ? 'Grant' : 'Change'} ${user} on ${app} (#${i})`, [
        inline(path, grant(app, user)),
      ]);
    }
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: parts.join(''), maxBuffer: 1 << 30 });
  execFileSync('git', ['checkout', '-q', 'main'], { cwd: dir });
  execFileSync('git', ['config', 'gc.auto', '0'], { cwd: dir });
  execFileSync('touch', [join(dir, '.git', 'iden-generated-v2')]);
  return dir;
}
