import { afterEach, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import { ManualClock } from '../../src/model/clock.js';
import { type Daemon, startDaemon } from '../../src/serve/daemon.js';
import { TEST_NOW } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type World, world } from './world.js';

let w: World | undefined;
let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  await w?.stop();
  d = undefined;
  w = undefined;
});

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

describe('iden serve and access reviews, on its clock', () => {
  it('reminds at the lead time and closes at the due date by its own timer, once each', async () => {
    w = await world();
    const start = await w.iden(
      ['review', 'start', '--due', '2026-12-11', '--remind', '7d', '--name', 'q4'],
      'alice',
    );
    expect(start.code, start.stderr).toBe(0);
    const clock = new ManualClock(TEST_NOW, { sleeps: 'advance' });
    w.server.now = () => clock.now();
    // Branch protection requires iden/policy: serve's close sets it on the heads it pushes.
    w.server.requiredChecks = ['iden/policy'];
    // The daemon's own clone, on the protected branch, acting with the same GitHub token.
    const clone = w.clone('erin');
    git(clone, ['pull', '-q', '--ff-only']);
    const lines: Line[] = [];
    d = await startDaemon({
      root: clone,
      pullMs: 3_600_000,
      schedule: '0 0 1 1 *',
      listen: '127.0.0.1:0',
      push: false,
      env: w.env,
      clock,
      registry: connectors,
      log: (level, msg, fields = {}) => lines.push({ level, msg, ...fields }),
      lockTimeoutMs: 5_000,
    });
    await d.idle();
    // The campaign's requests: its pull requests and their comments (a run's own reads aside).
    const requests = () => w!.server.requests.filter((r) => /\/(pulls|issues)\/\d+/.test(r)).length;
    const quiet = requests();
    expect(lines.filter((l) => l.msg.startsWith('review'))).toEqual([]);
    expect(w.server.comments).toEqual([]);

    // 7 days before the due date: one reminder comment per reviewer, from the daemon's timer.
    clock.set(Date.parse('2026-12-04T00:00:00Z'));
    await d.idle();
    expect(w.server.comments.map((c) => c.body.split('\n')[0])).toEqual([
      '<!-- iden-review-remind q4 7d -->',
      '<!-- iden-review-remind q4 7d -->',
      '<!-- iden-review-remind q4 7d -->',
    ]);
    expect(lines.find((l) => l.msg === 'review reminded')).toMatchObject({ campaign: 'q4', lead: '7d' });
    expect(requests()).toBeGreaterThan(quiet);

    // Later runs before the due date ask GitHub nothing more for the campaign.
    const reminded = requests();
    clock.set(Date.parse('2026-12-06T00:00:00Z'));
    await d.idle();
    expect(requests()).toBe(reminded);

    // The due date: every pull request merged as it stands, by default.
    clock.set(Date.parse('2026-12-11T00:00:00Z'));
    await d.idle();
    const closed = lines.find((l) => l.msg === 'review closed');
    expect(closed).toMatchObject({ campaign: 'q4', merged: 3 });
    expect([...w.server.pulls.values()].every((p) => p.merged)).toBe(true);
    expect(lines.filter((l) => l.level === 'error' && l.msg.startsWith('review'))).toEqual([]);

    // Closed: later runs owe nothing and ask nothing.
    const after = requests();
    clock.set(Date.parse('2026-12-12T00:00:00Z'));
    await d.idle();
    expect(requests()).toBe(after);
    expect(lines.filter((l) => l.msg === 'review closed')).toHaveLength(1);
    expect(w.server.errors).toEqual([]);
  }, 180_000);

  it("runs the scheduled workflow's commands: remind --all and close --all act on what is owed, then on nothing", async () => {
    w = await world();
    // As the scheduled workflow meets it: its job token's push starts no check-pr, and main requires iden/policy.
    w.server.requiredChecks = ['iden/policy'];
    await w.iden(['review', 'start', '--due', '2026-12-11', '--remind', '7d', '--name', 'q4'], 'alice');
    const count = async (args: string[], at: string) => {
      const before = w!.server.requests.length;
      const run = await w!.iden([...args, '--at', at], 'alice', at);
      return { ...run, requests: w!.server.requests.length - before };
    };
    expect((await count(['review', 'remind', '--all'], '2026-12-01T00:00:00Z')).stdout).toBe(
      'No reminder due.\n',
    );
    const remind = await count(['review', 'remind', '--all'], '2026-12-05T00:00:00Z');
    expect(remind.stdout).toContain('q4: 7d before its due date\n  Reminded bob on #1 (7d before)');
    expect(remind.requests).toBe(12); // per reviewer: comments, the pull request, reviews, one comment
    // Reminded already: one request per reviewer (its comments carry the marker).
    expect((await count(['review', 'remind', '--all'], '2026-12-06T00:00:00Z')).requests).toBe(3);
    const early = await count(['review', 'close', '--all'], '2026-12-10T00:00:00Z');
    expect([early.stdout, early.requests]).toEqual(['No campaign past its due date.\n', 0]);
    const close = await count(['review', 'close', '--all'], '2026-12-11T00:00:00Z');
    expect(close.code).toBe(0);
    expect(close.stdout).toMatch(/^q4: closed\n {2}bob #1: merged/);
    // Closed on the protected branch: nothing owed, nothing asked.
    const again = await count(['review', 'close', '--all'], '2026-12-12T00:00:00Z');
    expect([again.stdout, again.requests]).toEqual(['No campaign past its due date.\n', 0]);
    const neither = await w.iden(['review', 'close'], 'alice');
    expect([neither.code, neither.stderr]).toEqual([2, 'iden: name a campaign, or give --all\n']);
    expect(w.server.errors).toEqual([]);
  }, 180_000);
});
