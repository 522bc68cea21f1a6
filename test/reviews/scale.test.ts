import { afterEach, describe, expect, it } from 'vitest';
import { WRITE_INTERVAL_MS } from '../../src/reviews/pace.js';
import { TEST_NOW } from '../helpers/cli.js';
import { NO_VERIFY } from '../helpers/repo.js';
import { type World, world } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** 100 people with access to 5 apps, each app approved by its own reviewer: 500 items, 5 reviewers. */
function fiveHundred(): Record<string, string> {
  const people = [
    'alice',
    ...Array.from({ length: 5 }, (_, i) => `r${i + 1}`),
    ...Array.from({ length: 100 }, (_, i) => `p${String(i + 1).padStart(3, '0')}`),
  ];
  const tree: Record<string, string> = {
    'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
    'grants/_people.yaml': `people:\n${people.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com, accounts: { github: ${id}-gh } }\n`).join('')}`,
  };
  for (let a = 1; a <= 5; a++) {
    tree[`grants/a${a}/_app.yaml`] =
      `name: App ${a}\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: a${a}_read }\napprovers: [r${a}]\n`;
    for (const id of people.filter((p) => p.startsWith('p')))
      tree[`grants/a${a}/${id}.yaml`] = `user: ${id}\napp: a${a}\npermissions: [readonly]\n`;
  }
  return tree;
}

describe('GitHub use of a 500-item campaign', () => {
  it('is a few requests per reviewer, never per item', async () => {
    w = await world(fiveHundred());
    const count = async (args: string[], at?: string) => {
      const before = w!.server.requests.length;
      const run = await w!.iden(args, 'alice', at);
      expect(run.stderr).toBe('');
      return w!.server.requests.slice(before);
    };
    const start = await count(['review', 'start', '--due', '2026-12-11', '--remind', '7d', '--name', 'big']);
    expect(start).toHaveLength(10); // per reviewer: open the pull request, request the review
    // One pull request per reviewer, never per item.
    expect(start.filter((r) => r === 'POST /repos/acme/access/pulls')).toHaveLength(5);
    expect(w.server.pulls.size).toBe(5);
    // Paced as the github connector's writes: each write at least a second after the one before (virtual time).
    const writes = start.filter((r) => !r.startsWith('GET')).length;
    expect(w.clock.now() - TEST_NOW).toBeGreaterThanOrEqual((writes - 1) * WRITE_INTERVAL_MS);
    expect(
      w.server.pulls
        .get(1)!
        .body!.split('\n')
        .filter((l) => l.startsWith('| p0') || l.startsWith('| p1')),
    ).toHaveLength(100);
    const status = await count(['review', 'status', 'big']);
    expect(status).toHaveLength(10); // per reviewer: the pull request, its reviews
    const remind = await count(['review', 'remind', 'big', '--at', '2026-12-05']);
    expect(remind).toHaveLength(20); // per reviewer: comments, the pull request, reviews, one comment
    const remindAgain = await count(['review', 'remind', 'big', '--at', '2026-12-06']);
    expect(remindAgain).toHaveLength(5); // per reviewer: comments, which say it was reminded at this lead
    const close = await count(['review', 'close', 'big', '--at', '2026-12-11'], '2026-12-11T00:00:00Z');
    // per reviewer: the pull request, reviews, the pull request again with its reviews and commits
    // (check-pr's facts), the iden/policy status, the merge, one comment
    expect(close).toHaveLength(40);
    expect(close.filter((r) => r.startsWith('POST /repos/acme/access/statuses/'))).toHaveLength(5);
    // Three writes per reviewer (status, merge, comment), paced.
    expect(w.clock.now() - Date.parse('2026-12-11T00:00:00Z')).toBeGreaterThanOrEqual(14 * WRITE_INTERVAL_MS);
    expect([...w.server.pulls.values()].every((p) => p.merged)).toBe(true);
    const again = await count(['review', 'close', 'big'], '2026-12-12T00:00:00Z');
    expect(again).toHaveLength(5); // per reviewer: the pull request, merged already
    expect(w.server.errors).toEqual([]);
  }, 300_000);
});
