import { type ChildProcess, spawn } from 'node:child_process';
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
const _inSeconds = (s: number) =>
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
  /**
   * SIGTERM, then the exit code; a serve that does not stop within 60 s fails the test with its log.
   * The bound only turns a hang into a failure (the run in flight creates an embedded database, which
   * takes many seconds on a loaded machine): how fast it stops is not what is tested.
   */
  const stop = async (): Promise<number | null> => {
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.kill('SIGTERM');
    const late = new Promise<never>((_, fail) =>
      setTimeout(
        () => fail(new Error(`did not stop; log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)),
        60_000,
      ),
    );
    return Promise.race([closed, late]);
  };
  return { child, lines, waitFor, url, stop };
}

describe('iden serve, the command', () => {
  // Everything else the daemon does is tested in-process on a clock the test moves (daemon.test.ts).
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
  }, 90_000);

  it('refuses, at once and changing nothing, a schedule or an interval it cannot read', async () => {
    const { clone } = remoteAndClone({});
    const { runCli } = await import('../helpers/cli.js');
    const bad = await runCli(['serve', '--repo', clone, '--schedule', 'every tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--schedule every tuesday');
    const interval = await runCli(['serve', '--repo', clone, '--pull-interval', 'soon']);
    expect(interval.code).toBe(2);
  });
});
