// npm run bench verify: what apply-time verification costs a run. A repository
// whose main branch is 1,000 merged pull requests, each adding one grant; a
// loopback GitHub that answers the four requests verification makes (and
// counts them); iden plan timed with verification on, beside the same plan
// with it off, in turns (same-run ratios).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PULLS = 1000;
const dir = join(tmpdir(), `iden-bench-verify-${PULLS}`);
const bin = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'bin.js');
const git = (...args) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();

/** The repository, made once with git fast-import: a first commit, then PULLS merges of one-grant branches. */
function build() {
  if (existsSync(join(dir, '.done'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git('init', '-q', '-b', 'main');
  const people = Array.from(
    { length: PULLS },
    (_, i) => `  - { id: p${i}, name: P ${i}, email: p${i}@example.com }`,
  );
  const files = {
    'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n',
    'grants/_people.yaml': `people:\n  - { id: alice, name: Alice, email: alice@example.com, accounts: { github: alice-gh } }\n  - { id: carol, name: Carol, email: carol@example.com, accounts: { github: carol-gh } }\n${people.join('\n')}\n`,
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\napprovers: [carol]\n',
    '.gitignore': '.iden/\n',
  };
  let stream = '';
  const blob = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const when = (i) => 1_790_000_000 + i * 60;
  stream += `commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> ${when(0)} +0000\n${blob('the access repository')}`;
  for (const [path, text] of Object.entries(files)) stream += `M 100644 inline ${path}\n${blob(text)}`;
  let main = ':1';
  for (let i = 0; i < PULLS; i++) {
    const head = `:${2 + 2 * i}`;
    const merge = `:${3 + 2 * i}`;
    stream += `commit refs/heads/pr${i}\nmark ${head}\ncommitter Dev <p${i}@example.com> ${when(i) + 10} +0000\n${blob(`grant p${i}`)}from ${main}\n`;
    stream += `M 100644 inline grants/db/p${i}.yaml\n${blob(`user: p${i}\napp: db\npermissions: [readonly]\n`)}`;
    stream += `commit refs/heads/main\nmark ${merge}\ncommitter Alice <alice@example.com> ${when(i) + 20} +0000\n${blob(`Merge pull request #${i + 1}`)}from ${main}\nmerge ${head}\n`;
    stream += `M 100644 inline grants/db/p${i}.yaml\n${blob(`user: p${i}\napp: db\npermissions: [readonly]\n`)}`;
    main = merge;
  }
  stream += 'done\n';
  execFileSync('git', ['fast-import', '--quiet', '--done'], { cwd: dir, input: stream, maxBuffer: 1 << 30 });
  git('checkout', '-q', '-f', 'main');
  writeFileSync(join(dir, '.done'), '');
}

/** The loopback GitHub: the pull request each merge commit landed, carol's approval of its head. */
function github(line, heads) {
  const byMerge = new Map(line.map((sha, i) => [sha, i]));
  const byHead = new Map(heads.map((sha, i) => [sha, i]));
  const calls = { count: 0 };
  const user = (login) => ({ login, id: login.length * 1000 + login.charCodeAt(0), type: 'User' });
  const pull = (i) => ({
    number: i + 1,
    html_url: `https://github.com/acme/access/pull/${i + 1}`,
    user: user(`p${i}-gh`),
    head: { sha: heads[i], ref: `pr${i}` },
    base: { sha: line[i - 1] ?? line[0], ref: 'main', repo: { default_branch: 'main' } },
    merged_at: '2026-11-20T10:00:00Z',
    merge_commit_sha: line[i],
    merged_by: user('alice-gh'),
    commits: 1,
  });
  const server = createServer((req, res) => {
    calls.count++;
    const path = new URL(req.url, 'http://x').pathname;
    const send = (body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let m = /\/commits\/([0-9a-f]{40})\/pulls$/.exec(path);
    if (m) {
      const i = byMerge.get(m[1]) ?? byHead.get(m[1]);
      return send(i === undefined ? [] : [pull(i)]);
    }
    m = /\/pulls\/(\d+)(\/reviews|\/commits)?$/.exec(path);
    if (m) {
      const i = Number(m[1]) - 1;
      if (m[2] === '/reviews')
        return send([
          {
            id: 1,
            user: user('carol-gh'),
            state: 'APPROVED',
            commit_id: heads[i],
            submitted_at: '2026-11-20T09:00:00Z',
          },
        ]);
      if (m[2] === '/commits')
        return send([
          {
            sha: heads[i],
            author: user(`p${i}-gh`),
            committer: user(`p${i}-gh`),
            commit: {
              author: { email: `p${i}@example.com`, date: '2026-11-20T08:00:00Z' },
              committer: { email: `p${i}@example.com` },
              message: `grant p${i}`,
              verification: { verified: false },
            },
          },
        ]);
      return send(pull(i));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"Not Found"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, calls })));
}

/** A branch off main whose settings say what the run is to do. */
function settingsBranch(name, policy) {
  git('checkout', '-q', '-f', '-B', name, 'main');
  writeFileSync(
    join(dir, 'grants/_settings.yaml'),
    `timezone: UTC\nroles:\n  super-admin: [alice]\n${policy}`,
  );
  git('add', '-A');
  git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.com',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    name,
  );
}

/** iden plan in a child process, asynchronously: the loopback GitHub answers from this process meanwhile. */
async function plan(branch, env) {
  git('checkout', '-q', '-f', branch);
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'plan', '--repo', dir, '--format', 'json'], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const status = await new Promise((resolve) => child.on('close', resolve));
  // A plan that holds something exits 1: that is an answer here, not a failure.
  if (status !== 0 && status !== 1) throw new Error(`iden plan failed: ${stderr}`);
  return { ms: performance.now() - started, plan: JSON.parse(stdout) };
}

build();
const line = git('rev-list', '--first-parent', '--reverse', 'main').split('\n').slice(1);
const heads = line.map((sha) => git('rev-parse', `${sha}^2`));
const { server, calls } = await github(line, heads);
const env = {
  GITHUB_TOKEN: 'bench',
  GITHUB_REPOSITORY: 'acme/access',
  GITHUB_API_URL: `http://127.0.0.1:${server.address().port}`,
  XDG_CACHE_HOME: join(dir, '.iden', 'cache-home'),
};
settingsBranch('verify-last', `policy:\n  verifyFrom: ${line.at(-2)}\n`);
settingsBranch('verify-all', `policy:\n  verifyFrom: ${git('rev-list', '--max-parents=0', 'main')}\n`);
settingsBranch('verify-off', 'policy:\n  verifyMerges: false\n');

const floorStart = performance.now();
git('log', '--first-parent', '--raw', '-z', '--no-abbrev', 'main', '--', 'grants/');
const floor = performance.now() - floorStart;

console.log(
  `verify: ${PULLS} merged pull requests on main (a ${PULLS}-commit first-parent history), one grant each`,
);
const pairs = [];
for (let i = 0; i < 3; i++) {
  const before = calls.count;
  const on = await plan('verify-last', env);
  const asked = calls.count - before;
  const off = await plan('verify-off', {});
  pairs.push({ on: on.ms, off: off.ms, asked, held: on.plan.held.length, changes: on.plan.changes.length });
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = median(pairs.map((p) => p.on / p.off));
console.log(
  `  a run after one merge (the rest before verifyFrom): ${pairs[0].asked} GitHub requests for 1 merged pull request; plan ${(median(pairs.map((p) => p.on)) / 1000).toFixed(2)} s vs ${(median(pairs.map((p) => p.off)) / 1000).toFixed(2)} s with verification off: ${ratio.toFixed(2)}x (pairs ${pairs.map((p) => (p.on / p.off).toFixed(2)).join(', ')}); ${pairs[0].changes} grants, ${pairs[0].held} held`,
);
const before = calls.count;
const all = await plan('verify-all', env);
const allCalls = calls.count - before;
const off = await plan('verify-off', {});
console.log(
  `  a first run verifying all ${PULLS}: ${allCalls} GitHub requests (${(allCalls / PULLS).toFixed(2)} a merged pull request); plan ${(all.ms / 1000).toFixed(2)} s vs ${(off.ms / 1000).toFixed(2)} s off; ${all.plan.changes.length} grants, ${all.plan.held.length} held`,
);
console.log(`  floor: git log --first-parent --raw of the history ${floor.toFixed(0)} ms`);
git('checkout', '-q', '-f', 'main');
server.close();
