import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import { ManualClock } from '../../src/model/clock.js';
import { type Daemon, startDaemon } from '../../src/serve/daemon.js';
import { TEST_NOW } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

/**
 * The daemon in-process, on a clock the test moves: timers fire when the
 * test says it is time, never on the calendar and never after a real wait.
 */

const at = (s: number) => new Date(TEST_NOW + s * 1000).toISOString().replace('.000Z', 'Z');
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

/** A bare remote holding an access repository with one embedded database app, its work copy, and a clean clone. */
function remoteAndClone(grants: Record<string, string>, settings = '') {
  const work = writeTree({
    '.gitignore': '.iden/\n',
    'grants/_settings.yaml': `timezone: UTC\n${NO_VERIFY}${settings}`,
    'grants/_people.yaml': `people:\n${['ana', 'ben', 'cy', 'dee', 'eve'].map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: db_read }\n',
    ...grants,
  });
  git(work, ['init', '-q', '-b', 'main']);
  git(work, ['add', '-A']);
  git(work, ['commit', '-q', '-m', 'access']);
  const remote = `${work}-remote.git`;
  git(work, ['clone', '-q', '--bare', work, remote]);
  git(work, ['remote', 'add', 'origin', remote]);
  const clone = `${work}-clone`;
  git(work, ['clone', '-q', remote, clone]);
  return { remote, clone, work };
}

function push(work: string, files: Record<string, string | null>, message: string): void {
  writeTree(files, work);
  git(work, ['add', '-A']);
  git(work, ['commit', '-q', '-m', message]);
  git(work, ['push', '-q', 'origin', 'main']);
}

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

async function daemon(clone: string, clock: ManualClock, env: NodeJS.ProcessEnv = {}, extra = {}) {
  const lines: Line[] = [];
  const d = await startDaemon({
    root: clone,
    pullMs: 60_000,
    schedule: '0 0 1 1 *',
    listen: '127.0.0.1:0',
    push: false,
    env,
    clock,
    registry: connectors,
    log: (level, msg, fields = {}) => lines.push({ level, msg, ...fields }),
    lockTimeoutMs: 5_000,
    ...extra,
  });
  daemons.push(d);
  await d.idle();
  return { d, lines, url: `http://${d.address}` };
}

const changes = (lines: Line[]) =>
  lines.filter((l) => l.msg === 'change').map((l) => `${l.action} ${l.user} ${l.reason}`);

describe('iden serve, on its clock', () => {
  it('grants and removes at each instant, by its timer, and never misses one that passes during a run', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone } = remoteAndClone({
      'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${at(100)}\n`,
      'grants/db/ben.yaml': `user: ben\napp: db\npermissions: [read]\nstart: ${at(50)}\n`,
      'grants/db/cy.yaml': `user: cy\napp: db\npermissions: [read]\nstart: ${at(101)}\n`,
      'grants/db/dee.yaml': `user: dee\napp: db\npermissions: [read]\nend: ${at(102)}\n`,
    });
    const { d, lines } = await daemon(clone, clock);
    expect(changes(lines)).toEqual(['grant ana new-grant', 'grant dee new-grant']);
    expect(d.state.nextTimer).toBe(Date.parse(at(50)));

    clock.set(Date.parse(at(50)));
    await d.idle();
    expect(changes(lines).slice(2)).toEqual(['grant ben start-reached']);
    expect(lines.filter((l) => l.msg === 'run').at(-1)!.why).toBe(
      `grants start or end at ${new Date(Date.parse(at(50))).toISOString()}`,
    );

    // Three instants pass at once: the first's run, then at once a run for those that passed meanwhile.
    clock.set(Date.parse(at(103)));
    await d.idle();
    expect(changes(lines).slice(3).sort()).toEqual([
      'grant cy start-reached',
      'revoke ana expired',
      'revoke dee expired',
    ]);
    expect(d.state.nextTimer).toBeUndefined();
  });

  it('collects the heap whole once a run of a newly read commit is done, when no timer is due within five seconds', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone } = remoteAndClone({
      'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${at(3)}\n`,
      'grants/db/ben.yaml': `user: ben\napp: db\npermissions: [read]\nend: ${at(60)}\n`,
    });
    const collected = (lines: Line[]) => lines.filter((l) => l.msg === 'heap collected').length;
    const { d, lines } = await daemon(clone, clock);
    // ana's end is 3 s off: not now, when the timer's run would wait for it.
    expect(collected(lines)).toBe(0);
    clock.set(Date.parse(at(3)));
    await d.idle();
    expect(changes(lines)).toContain('revoke ana expired');
    // Ben's end is a minute off: the commit read at the start is collected after now, once.
    expect(collected(lines)).toBe(1);
    expect(lines.find((l) => l.msg === 'heap collected')).toMatchObject({ ms: expect.any(Number) });
    clock.set(Date.parse(at(60)));
    await d.idle();
    expect(changes(lines)).toContain('revoke ben expired');
    expect(collected(lines)).toBe(1);
  });

  it('applies an end that passes while a run is in progress, by a timer armed at once after it', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone } = remoteAndClone({
      'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${at(100)}\n`,
      'grants/db/ben.yaml': `user: ben\napp: db\npermissions: [read]\nend: ${at(101)}\n`,
      'grants/db/cy.yaml': `user: cy\napp: db\npermissions: [read]\nend: ${at(102)}\n`,
    });
    // While the run of ana's end observes the app, time moves past ben's and cy's ends.
    let during: number | undefined;
    const postgres = connectors.postgres!;
    const registry = {
      ...connectors,
      postgres: {
        ...postgres,
        open: async (...args: Parameters<typeof postgres.open>) => {
          const session = await postgres.open(...args);
          const observe = session.observe.bind(session);
          session.observe = async () => {
            const held = await observe();
            if (during !== undefined) clock.set(during);
            during = undefined;
            return held;
          };
          return session;
        },
      },
    };
    const { d, lines } = await daemon(clone, clock, {}, { registry });
    expect(changes(lines)).toEqual(['grant ana new-grant', 'grant ben new-grant', 'grant cy new-grant']);
    expect(d.state.nextTimer).toBe(Date.parse(at(100)));

    during = Date.parse(at(102)) + 500;
    clock.set(Date.parse(at(100)));
    await d.idle();
    const runs = lines.filter((l) => l.msg === 'run').map((l) => l.why);
    // The run at ana's end evaluated at(100) only; the timer for the ends that passed meanwhile fired at once.
    expect(runs.slice(-2)).toEqual([
      `grants start or end at ${new Date(Date.parse(at(100))).toISOString()}`,
      `grants start or end at ${new Date(Date.parse(at(101))).toISOString()}`,
    ]);
    expect(changes(lines).slice(3)).toEqual([
      'revoke ana expired',
      'revoke ben expired',
      'revoke cy expired',
    ]);
    const timer = lines.filter((l) => l.msg === 'timer').at(-1)!;
    expect(timer.lateMs).toBe(Date.parse(at(102)) + 500 - Date.parse(at(101)));
    expect(d.state.nextTimer).toBeUndefined();
  });

  it('runs only the apps due at an instant, and a run of some apps still counts every removal since a run a window ago', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const minutes = (m: number) => m * 60;
    const { clone } = remoteAndClone(
      {
        'grants/wh/_app.yaml':
          'name: WH\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: wh_read }\n',
        'grants/wh/ana.yaml': `user: ana\napp: wh\npermissions: [read]\nend: ${at(minutes(20))}\n`,
        'grants/wh/ben.yaml': `user: ben\napp: wh\npermissions: [read]\nend: ${at(minutes(20))}\n`,
        'grants/db/cy.yaml': `user: cy\napp: db\npermissions: [read]\nend: ${at(minutes(21))}\n`,
        'grants/db/dee.yaml': 'user: dee\napp: db\npermissions: [read]\n',
      },
      'limits: { maxRemovals: 2, maxRemovalShare: 1 }\n',
    );
    const { d, lines } = await daemon(clone, clock);
    expect(changes(lines)).toHaveLength(4);

    // Two removals in wh alone: within the limit, since the first run (20 minutes ago) too.
    clock.set(Date.parse(at(minutes(20))));
    await d.idle();
    expect(lines.filter((l) => l.msg === 'run').at(-1)!.apps).toEqual(['wh']);
    expect(changes(lines).slice(4)).toEqual(['revoke ana expired', 'revoke ben expired']);

    // One more in db a minute later: the run of db alone counts three since the first run, and stops.
    clock.set(Date.parse(at(minutes(21))));
    await d.idle();
    expect(lines.filter((l) => l.msg === 'run').at(-1)!.apps).toEqual(['db']);
    expect(changes(lines)).toHaveLength(6);
    expect(lines.filter((l) => l.msg === 'run finished').at(-1)!.problem).toMatch(
      /^the repository removes 3 assignments across all apps since the run of .*, more than limits.maxRemovals \(2\); a run of some apps counts them all$/,
    );
  });

  it('runs the apps a pull changes at once, with no schedule or webhook', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone, work } = remoteAndClone({});
    const { d, lines } = await daemon(clone, clock);
    push(work, { 'grants/db/eve.yaml': 'user: eve\napp: db\npermissions: [read]\n' }, 'eve');
    clock.advance(60_000);
    await d.idle();
    expect(changes(lines)).toEqual(['grant eve new-grant']);
    expect(lines.filter((l) => l.msg === 'run').at(-1)!.why).toMatch(/^a pull brought [0-9a-f]{12}$/);
  });

  it('follows only the branch origin names, and never applies a commit origin does not have', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone, work } = remoteAndClone({});
    // A clone on an unreviewed local branch, with origin/HEAD unset, as iden init then git remote add leaves it.
    git(clone, ['remote', 'set-head', 'origin', '-d']);
    git(clone, ['checkout', '-q', '-b', 'mine']);
    writeTree({ 'grants/db/eve.yaml': 'user: eve\napp: db\npermissions: [read]\n' }, clone);
    git(clone, ['add', '-A']);
    git(clone, ['commit', '-q', '-m', 'mine']);
    await expect(daemon(clone, clock)).rejects.toThrow(
      /is on mine, not main \(origin's default branch\): iden serve applies only the reviewed branch/,
    );
    // On main, a commit made here and never pushed is not applied, and health says why.
    git(clone, ['checkout', '-q', 'main']);
    git(clone, ['cherry-pick', 'mine']);
    const { d, lines, url } = await daemon(clone, clock);
    expect(changes(lines)).toEqual([]);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reasons: string[] }).reasons[0]).toMatch(
      /^main \(\w{12}\) is not on origin\/main \(\w{12}\): a commit the remote does not have is never applied/,
    );
    expect(d.state.pullError).not.toBe('');
    expect(work).toBeTruthy();
  });

  it('is healthy while pulls work, applies a signed push, refuses the rest, and counts what it did', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone, work } = remoteAndClone({});
    const secret = 's3cret';
    const { d, lines, url } = await daemon(clone, clock, { IDEN_WEBHOOK_SECRET: secret });
    // Pulls every minute for an hour: healthy throughout.
    for (let i = 0; i < 60; i++) {
      clock.advance(60_000);
      await d.idle();
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    push(work, { 'grants/db/cy.yaml': 'user: cy\napp: db\npermissions: [read]\n' }, 'cy');
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const sign = (b: string, key = secret) => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;
    const post = (b: string, headers: Record<string, string>) =>
      fetch(`${url}/hooks/github`, {
        method: 'POST',
        body: b,
        headers: { 'x-github-event': 'push', ...headers },
      });
    expect((await post(body, {})).status).toBe(401);
    expect((await post(body, { 'x-hub-signature-256': sign(body, 'wrong') })).status).toBe(401);
    const large = await post('x'.repeat(2 * 1024 * 1024), { 'x-hub-signature-256': sign('x') }).catch(() => ({
      status: 413,
    }));
    expect(large.status).toBe(413);
    expect((await post(body, { 'x-hub-signature-256': sign(body) })).status).toBe(202);
    await d.idle();
    expect(changes(lines)).toEqual(['grant cy new-grant']);
    expect(lines.filter((l) => l.msg === 'webhook refused').map((l) => l.why)).toEqual([
      'unsigned',
      'bad signature',
      'body too large',
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^iden_runs_total\{outcome="success"\} [1-9]/m);
    expect(metrics).toContain('iden_changes_total{action="grant",app="db"} 1');
    expect(metrics).toMatch(/^iden_pull_lag_seconds 0$/m);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true, reasons: [] });
  });

  it('sends each notice before expiry once, across a restart', async () => {
    const received: string[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        received.push((JSON.parse(b) as { text: string }).text);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const env = { HOOK: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/` };
      const { clone } = remoteAndClone(
        { 'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${at(3 * 86_400)}\n` },
        'notify:\n  before: [7d, 1d]\n  webhookEnv: HOOK\n',
      );
      for (let round = 0; round < 2; round++) {
        const clock = new ManualClock(TEST_NOW + round * 60_000, { sleeps: 'advance' });
        const { d } = await daemon(clone, clock, env);
        await d.stop();
        daemons.splice(daemons.indexOf(d), 1);
      }
      expect(received).toEqual([
        `ana's access to db ends ${at(3 * 86_400)} (grants/db/ana.yaml). To extend it: iden change --app db --user ana --end <date>, or edit the file's end in a pull request.`,
      ]);
      expect(JSON.parse(readFileSync(join(clone, '.iden', 'serve', 'notices.json'), 'utf8'))).toHaveLength(1);
    } finally {
      hook.close();
    }
  });

  it('holds the clone: no other run may use it while it serves', async () => {
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    const { clone } = remoteAndClone({});
    await daemon(clone, clock);
    const { runCli } = await import('../helpers/cli.js');
    const other = await runCli(['plan', '--repo', clone, '--lock-timeout', '1s']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/iden serve \(pid \d+ on .+\) holds .*lock/);
    writeFileSync(join(clone, 'x'), '');
  });
});
