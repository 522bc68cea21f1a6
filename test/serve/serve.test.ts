import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { git } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const bin = join(packageRoot(), 'dist/src/cli/bin.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** An ISO instant `s` seconds from now, to the second, in UTC. */
const inSeconds = (s: number) =>
  new Date(Math.ceil(Date.now() / 1000) * 1000 + s * 1000).toISOString().replace('.000Z', 'Z');

/** A bare remote holding an access repository with one embedded database app, and a clean clone of it. */
function remoteAndClone(
  grants: Record<string, string>,
  settings = '',
): { remote: string; clone: string; work: string } {
  const work = writeTree({
    '.gitignore': '.iden/\n',
    'grants/_settings.yaml': `timezone: UTC\n${NO_VERIFY}${settings}`,
    'grants/_people.yaml':
      'people:\n  - { id: ana, name: Ana, email: ana@example.com }\n  - { id: ben, name: Ben, email: ben@example.com }\n  - { id: cy, name: Cy, email: cy@example.com }\n',
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

interface Line {
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

/** Starts iden serve on the clone; its JSON log lines as they come. */
function serve(clone: string, env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--repo',
      clone,
      '--listen',
      '127.0.0.1:0',
      '--log-format',
      'json',
      '--pull-interval',
      '1s',
      '--no-push',
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const lines: Line[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, i)) as Line);
      buffer = buffer.slice(i + 1);
    }
  });
  const waitFor = async (test: (l: Line) => boolean, ms = 20_000): Promise<Line> => {
    const until = Date.now() + ms;
    for (;;) {
      const found = lines.find(test);
      if (found) return found;
      if (Date.now() > until)
        throw new Error(`not seen in ${ms} ms; log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const url = async () => {
    const line = await waitFor((l) => l.msg === 'serving');
    return `http://${line.listen as string}`;
  };
  /** SIGTERM, then the exit code; a serve that does not stop within 15 s fails the test with its log. */
  const stop = async (): Promise<number | null> => {
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.kill('SIGTERM');
    const late = new Promise<never>((_, fail) =>
      setTimeout(
        () => fail(new Error(`did not stop; log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)),
        15_000,
      ),
    );
    return Promise.race([closed, late]);
  };
  return { child, lines, waitFor, url, stop };
}

describe('iden serve', () => {
  // How late is a benchmark's question (npm run bench serve); this checks the timers do the work.
  it('grants and removes access at the instants in the files, each run started by its timer', async () => {
    const start = inSeconds(10);
    const end = inSeconds(12);
    const { clone } = remoteAndClone({
      'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${end}\n`,
      'grants/db/ben.yaml': `user: ben\napp: db\npermissions: [read]\nstart: ${start}\n`,
    });
    const s = serve(clone);
    await s.waitFor((l) => l.msg === 'change' && l.user === 'ana' && l.action === 'grant');
    const granted = await s.waitFor((l) => l.msg === 'change' && l.user === 'ben' && l.action === 'grant');
    const removed = await s.waitFor((l) => l.msg === 'change' && l.user === 'ana' && l.action === 'revoke');
    expect(Date.parse(granted.time) - Date.parse(start)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(removed.time) - Date.parse(end)).toBeGreaterThanOrEqual(0);
    expect(removed.reason).toBe('expired');
    // Each was done by the run its timer started, not by a schedule or a pull.
    const why = s.lines.filter((l) => l.msg === 'run').map((l) => l.why);
    const iso = (t: string) => new Date(t).toISOString();
    expect(why).toContain(`grants start or end at ${iso(start)}`);
    expect(why).toContain(`grants start or end at ${iso(end)}`);
    for (const t of s.lines.filter((l) => l.msg === 'timer'))
      expect(t.lateMs as number).toBeGreaterThanOrEqual(0);
  }, 40_000);

  it('applies a signed push at once, refuses unsigned, badly signed and oversized ones, and reports health and metrics', async () => {
    const { clone, work } = remoteAndClone({});
    const secret = 's3cret';
    const s = serve(clone, { IDEN_WEBHOOK_SECRET: secret });
    const base = await s.url();
    await s.waitFor((l) => l.msg === 'run finished');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // A merge lands on the remote; the webhook says so.
    writeTree({ 'grants/db/cy.yaml': 'user: cy\napp: db\npermissions: [read]\n' }, work);
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', 'cy']);
    git(work, ['push', '-q', 'origin', 'main']);
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const sign = (b: string, key = secret) => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;
    const post = (b: string, headers: Record<string, string>) =>
      fetch(`${base}/hooks/github`, {
        method: 'POST',
        body: b,
        headers: { 'x-github-event': 'push', ...headers },
      });
    expect((await post(body, {})).status).toBe(401);
    expect((await post(body, { 'x-hub-signature-256': sign(body, 'wrong') })).status).toBe(401);
    expect(
      (
        await post('x'.repeat(2 * 1024 * 1024), { 'x-hub-signature-256': sign('x') }).catch(() => ({
          status: 413,
        }))
      ).status,
    ).toBe(413);
    expect(s.lines.filter((l) => l.msg === 'webhook refused').map((l) => l.why)).toEqual([
      'unsigned',
      'bad signature',
      'body too large',
    ]);
    expect((await post(body, { 'x-hub-signature-256': sign(body) })).status).toBe(202);
    const applied = await s.waitFor((l) => l.msg === 'change' && l.user === 'cy');
    expect(applied).toMatchObject({
      action: 'grant',
      app: 'db',
      access: 'read',
      reason: 'new-grant',
      outcome: 'granted',
    });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^iden_runs_total\{outcome="success"\} [1-9]/m);
    expect(metrics).toContain('iden_changes_total{action="grant",app="db"} 1');
    expect(metrics).toMatch(/^iden_pull_lag_seconds \d/m);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { ok: boolean; reasons: string[] };
    expect(health.reasons).toEqual([]);
    expect(health.ok).toBe(true);
  }, 40_000);

  it('stops on SIGTERM after the run in flight, exiting 0', async () => {
    const { clone } = remoteAndClone({ 'grants/db/ana.yaml': 'user: ana\napp: db\npermissions: [read]\n' });
    const s = serve(clone);
    await s.waitFor((l) => l.msg === 'run');
    expect(await s.stop()).toBe(0);
    const msgs = s.lines.map((l) => l.msg);
    // The run that had started finished (its change and its end are logged) before the stop.
    expect(msgs.indexOf('run finished')).toBeGreaterThan(-1);
    expect(msgs.indexOf('run finished')).toBeLessThan(msgs.indexOf('stopped'));
    expect(s.lines.some((l) => l.msg === 'change' && l.user === 'ana')).toBe(true);
  }, 40_000);

  it('sends each notice before expiry once, even across a restart', async () => {
    const received: string[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        received.push((JSON.parse(b) as { text: string }).text);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
      const { clone } = remoteAndClone(
        { 'grants/db/ana.yaml': `user: ana\napp: db\npermissions: [read]\nend: ${inSeconds(3 * 86_400)}\n` },
        'notify:\n  before: [7d, 1d]\n  webhookEnv: HOOK\n',
      );
      for (let round = 0; round < 2; round++) {
        const s = serve(clone, { HOOK: hookUrl });
        await s.waitFor((l) => l.msg === 'run finished');
        await new Promise((r) => setTimeout(r, 300));
        expect(await s.stop()).toBe(0);
      }
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(
        /^ana's access to db ends 20\d\d-\d\d-\d\dT[\d:]+Z? \(grants\/db\/ana\.yaml\)\. To extend it: iden change --app db --user ana --end <date>/,
      );
      expect(JSON.parse(readFileSync(join(clone, '.iden', 'serve', 'notices.json'), 'utf8'))).toHaveLength(1);
    } finally {
      hook.close();
    }
  }, 40_000);
});
