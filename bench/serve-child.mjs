// npm run bench serve: 20 grants start or end at staggered instants; iden serve
// acts on each. Prints JSON {lateness: [ms...]}: how long after the instant
// written in the file the change was applied (from serve's JSON log).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'bin.js');
const work = mkdtempSync(join(tmpdir(), 'iden-bench-serve-'));
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' });
const t0 = Math.ceil(Date.now() / 1000) * 1000 + 15_000;
const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');
const people = [];
const instants = new Map();
mkdirSync(join(work, 'grants', 'db'), { recursive: true });
for (let i = 0; i < 20; i++) {
  const id = `p${String(i).padStart(2, '0')}`;
  people.push(`  - { id: ${id}, name: P ${i}, email: ${id}@example.com }`);
  const at = t0 + i * 2_000;
  // Even ones start at their instant; odd ones end at it.
  const when = i % 2 === 0 ? `start: ${iso(at)}` : `end: ${iso(at)}`;
  writeFileSync(
    join(work, 'grants', 'db', `${id}.yaml`),
    `user: ${id}\napp: db\npermissions: [read]\n${when}\n`,
  );
  instants.set(id, { at, action: i % 2 === 0 ? 'grant' : 'revoke' });
}
writeFileSync(join(work, 'grants', '_people.yaml'), `people:\n${people.join('\n')}\n`);
// No GitHub behind this repository: apply-time verification is off, as in the example.
writeFileSync(join(work, 'grants', '_settings.yaml'), 'policy: { verifyMerges: false }\n');
writeFileSync(
  join(work, 'grants', 'db', '_app.yaml'),
  'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: db_read }\n',
);
writeFileSync(join(work, '.gitignore'), '.iden/\n');
git(work, 'init', '-q', '-b', 'main');
git(work, 'add', '-A');
git(work, '-c', 'user.name=b', '-c', 'user.email=b@e', 'commit', '-q', '-m', 'bench');
git(work, 'clone', '-q', '--bare', work, `${work}.git`);
git(tmpdir(), 'clone', '-q', `${work}.git`, `${work}-clone`);

const child = spawn(
  process.execPath,
  [bin, 'serve', '--repo', `${work}-clone`, '--listen', '127.0.0.1:0', '--log-format', 'json', '--no-push'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const lateness = [];
const timers = [];
const runs = [];
let buffer = '';
child.stdout.on('data', (chunk) => {
  buffer += chunk;
  for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
    const line = JSON.parse(buffer.slice(0, i));
    buffer = buffer.slice(i + 1);
    if (line.msg === 'timer') timers.push(line.lateMs);
    if (line.msg === 'run finished' && line.ms !== undefined) runs.push(line.ms);
    const want = instants.get(line.user);
    if (line.msg === 'change' && want && line.action === want.action && Date.parse(line.time) >= want.at)
      lateness.push(Date.parse(line.time) - want.at);
    if (lateness.length === 20) child.kill('SIGTERM');
  }
});
setTimeout(() => child.kill('SIGTERM'), t0 - Date.now() + 60_000);
await new Promise((r) => child.on('close', r));
console.log(JSON.stringify({ lateness, timers, runs }));
