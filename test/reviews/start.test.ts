import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type World, world } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

describe('iden review start', () => {
  it('opens one pull request per reviewer ending every grant that outlasts the campaign, and commits the campaign file', async () => {
    w = await world();
    const run = await w.iden(['review', 'start', '--due', '2026-12-11', '--name', 'q4'], 'alice');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Started q4: 5 grants end 2026-12-11 unless kept');
    expect(w.server.errors).toEqual([]);
    expect([...w.server.pulls.values()].map((p) => [p.headRef, p.requested])).toEqual([
      ['review/q4/bob', ['bob-gh']],
      ['review/q4/carol', ['carol-gh']],
      ['review/q4/dave', ['dave-gh']],
    ]);
    const show = (ref: string) => git(w!.remote, ['show', ref]);
    expect(show('review/q4/carol:grants/db/erin.yaml')).toBe(
      'user: erin\napp: db\npermissions: [writer]\nend: 2026-12-11 # iden review q4: ends unless kept\n',
    );
    // carol never reviews her own grant: the next approver, bob, does.
    expect(show('review/q4/bob:grants/db/carol.yaml')).toContain('end: 2026-12-11 # iden review q4');
    // A grant that ends before the campaign does is not in it.
    expect(show('review/q4/dave:grants/wh/erin.yaml')).not.toContain('iden review');
    const campaign = show('main:reviews/q4.yaml');
    expect(campaign).toContain('startedBy: alice');
    expect(campaign).toContain('pr: 2');
    expect(w.server.pulls.get(2)!.body).toContain('| Erin (erin) | db | writer |');
  });

  it("lists each item's last applied instant from the apply records the remote has", async () => {
    w = await world();
    // A run over db only, pushing its record as CI's does; wh was never applied.
    const alice = w.clone('alice');
    const run = await runCli([
      'reconcile',
      '--repo',
      alice,
      '--app',
      'db',
      '--at',
      '2026-11-20T10:00:00Z',
      '--yes',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const start = await w.iden(['review', 'start', '--due', '2026-12-11', '--name', 'q4'], 'alice');
    expect(start.stderr).toBe('');
    const body = (n: number) => w!.server.pulls.get(n)!.body!;
    expect(body(2)).toContain('| since | granted by | why | last applied | privileged | used |');
    expect(body(2)).toMatch(
      /\| Alice \(alice\) \| db \| readonly \| 2026-10-01 \| [^|]+ \| On call, OPS-1 \| 2026-11-20T10:00:00Z \| no \| not asked \|/,
    );
    expect(body(3)).toMatch(
      /\| Bob \(bob\) \| wh \| readonly \| 2026-10-01 \| [^|]+ \| {2}\| not recorded \| no \| not asked \|/,
    );
  }, 180_000);

  it('refuses anyone but a Super Admin or a role the settings name, changing nothing', async () => {
    w = await world();
    const run = await w.iden(['review', 'start', '--due', '14d'], 'carol');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('carol may not start a campaign');
    expect(w.server.pulls.size).toBe(0);
    expect(git(w.remote, ['branch', '--list'])).toBe('* main\n');
  });
});
