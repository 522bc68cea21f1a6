import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type World, world } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const show = (dir: string, spec: string) => git(dir, ['show', spec]);

/** The reviewer approves their pull request's head as GitHub would record it. */
function approve(w: World, number: number, login: string, at = '2026-12-01T09:00:00Z') {
  const pull = w.server.pulls.get(number)!;
  const head = git(w.remote, ['rev-parse', `refs/heads/${pull.headRef}`]).trim();
  pull.reviews.push({ login, state: 'APPROVED', commit: head, at });
}

describe('an access review campaign, end to end', () => {
  it('two apps, three reviewers: kept access stays, the rest ends at the due date and the next reconcile removes it', async () => {
    w = await world();
    expect((await w.iden(['review', 'start', '--due', '2026-12-11', '--name', 'q4'], 'alice')).code).toBe(0);
    const bobPr = 1;
    // carol keeps two items with reasons; she may not keep her own access (bob reviews it).
    const keep = (user: string, reason: string) =>
      w!.iden(
        ['review', 'keep', 'q4', '--user', user, '--app', 'db', '--reason', reason],
        'carol',
        '2026-11-30T10:00:00Z',
      );
    expect((await keep('alice', 'On call rota, OPS-7')).code).toBe(0);
    expect((await keep('erin', 'Loads the nightly batch')).code).toBe(0);
    const own = await keep('carol', 'I need it');
    expect(own.code).toBe(1);
    expect(own.stderr).toContain(
      'carol may not keep their own access (grants/db/carol.yaml): the grantee never reviews their own item',
    );
    expect(show(w.remote, 'review/q4/carol:grants/db/erin.yaml')).toBe(
      'user: erin\napp: db\npermissions: [writer]\nend: 2027-06-01\n',
    );
    // Each keep is a commit as the reviewer, with the reason.
    expect(git(w.remote, ['log', '-1', '--format=%ae%n%B', 'review/q4/carol'])).toContain(
      'carol@example.com\nKeep erin',
    );
    // bob approves as it is; dave does nothing.
    approve(w, bobPr, 'bob-gh');

    // The gate: carol's pull request (now empty) and bob's (ends a grant) pass without further approval.
    const alice = w.clone('alice');
    git(alice, ['fetch', '-q', 'origin']);
    for (const branch of ['review/q4/bob', 'review/q4/dave']) {
      const check = await runCli(
        [
          'check-pr',
          '--repo',
          alice,
          '--base',
          'origin/main',
          '--head',
          `origin/${branch}`,
          '--author',
          'alice-gh',
          '--format',
          'json',
        ],
        { env: {} },
      );
      expect(check.stdout).toContain('"classification": "revocation"');
      expect(check.code).toBe(0);
    }

    const status = await w.iden(['review', 'status', 'q4'], 'alice');
    expect(status.stdout).toBe(
      [
        'q4: due 2026-12-11, unkept access ends 2026-12-11',
        '  bob #1 (open): 0 kept, 1 ending, 0 not answered, 0 dropped out',
        '  carol #2 (open): 2 kept, 0 ending, 0 not answered, 0 dropped out',
        '  dave #3 (open): 0 kept, 0 ending, 2 not answered, 0 dropped out',
        '',
      ].join('\n'),
    );

    const early = await w.iden(['review', 'close', 'q4', '--at', '2026-12-10'], 'alice');
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('q4 is due 2026-12-11');

    const closed = await w.iden(
      ['review', 'close', 'q4', '--at', '2026-12-11'],
      'alice',
      '2026-12-11T00:00:00Z',
    );
    expect(closed.stderr).toBe('');
    expect(closed.stdout).toContain('bob #1: merged (0 kept, 1 ending (0 by default), 0 dropped out)');
    expect(closed.stdout).toContain('carol #2: merged (2 kept, 0 ending (0 by default), 0 dropped out)');
    expect(closed.stdout).toContain('dave #3: merged (0 kept, 2 ending (2 by default), 0 dropped out)');
    expect(w.server.errors).toEqual([]);
    const main = (path: string) => show(w!.remote, `main:${path}`);
    expect(main('grants/db/alice.yaml')).not.toContain('end:');
    expect(main('grants/db/erin.yaml')).toContain('end: 2027-06-01\n');
    expect(main('grants/db/carol.yaml')).toContain('end: 2026-12-11 # iden review q4');
    expect(main('grants/wh/alice.yaml')).toContain('end: 2026-12-11 # iden review q4');
    expect(main('grants/wh/bob.yaml')).toContain('end: 2026-12-11 # iden review q4');
    expect(w.server.comments.map((c) => c.issue)).toEqual([1, 2, 3]);

    // Closing twice changes nothing.
    const tip = git(w.remote, ['rev-parse', 'main']);
    const again = await w.iden(['review', 'close', 'q4'], 'alice', '2026-12-12T00:00:00Z');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('bob #1: merged already; left as it is.');
    expect(git(w.remote, ['rev-parse', 'main'])).toBe(tip);
    expect(w.server.comments).toHaveLength(3);

    // Apply: before the end everyone has access; the next reconcile after it removes what was not kept.
    git(alice, ['pull', '-q', '--ff-only']);
    const before = await runCli([
      'reconcile',
      '--repo',
      alice,
      '--at',
      '2026-12-10T12:00:00Z',
      '--yes',
      '--no-push',
    ]);
    expect(before.code).toBe(0);
    const plan = await runCli(['plan', '--repo', alice, '--at', '2026-12-11T00:00:01Z', '--format', 'json']);
    const changes = (
      JSON.parse(plan.stdout) as { changes: { action: string; app: string; account: string }[] }
    ).changes;
    expect(changes.map((c) => `${c.action} ${c.app} ${c.account}`).sort()).toEqual([
      'revoke db carol',
      'revoke wh alice',
      'revoke wh bob',
    ]);
    // This run pushes its record, as CI's does: the report reads the records the remote has.
    expect((await runCli(['reconcile', '--repo', alice, '--at', '2026-12-11T00:00:01Z', '--yes'])).code).toBe(
      0,
    );
    const after = await runCli(['plan', '--repo', alice, '--at', '2026-12-11T00:00:01Z', '--format', 'json']);
    expect((JSON.parse(after.stdout) as { changes: unknown[] }).changes).toEqual([]);

    // The evidence: the same bytes from a fresh clone of the remote, in every format.
    const reports: Record<string, string> = {};
    for (const format of ['csv', 'json', 'md']) {
      const made = await w.iden(['review', 'report', 'q4', '--format', format], 'alice');
      expect(made.stderr).toBe('');
      reports[format] = made.stdout;
    }
    const fresh = w.clone('erin');
    for (const format of ['csv', 'json', 'md'])
      expect((await w.iden(['review', 'report', 'q4', '--format', format], 'erin')).stdout).toBe(
        reports[format],
      );
    const { manifest, rows } = JSON.parse(reports.json!) as {
      manifest: { rows: number; sha256: string; campaignCommit: string };
      rows: Record<string, string>[];
    };
    expect(manifest.rows).toBe(5);
    expect(manifest.campaignCommit).toBe(
      git(fresh, ['log', '-1', '--format=%H', 'origin/main', '--', 'reviews/q4.yaml']).trim(),
    );
    expect(rows.map((r) => [r.app, r.user, r.reviewer, r.decision, r.reason, r.decidedAt])).toEqual([
      ['db', 'alice', 'carol', 'kept', 'On call rota, OPS-7', '2026-11-30T10:00:00.000Z'],
      ['db', 'carol', 'bob', 'ended by review', '', '2026-12-01T09:00:00.000Z'],
      ['db', 'erin', 'carol', 'kept', 'Loads the nightly batch', '2026-11-30T10:00:00.000Z'],
      ['wh', 'alice', 'dave', 'ended by default', '', '2026-12-11T00:00:00.000Z'],
      ['wh', 'bob', 'dave', 'ended by default', '', '2026-12-11T00:00:00.000Z'],
    ]);
    expect(rows.find((r) => r.user === 'carol')).toMatchObject({
      pr: '#1',
      appliedAt: '2026-12-11T00:00:01.000Z',
    });
    expect(rows.find((r) => r.user === 'alice' && r.app === 'db')!.appliedAt).toBe('');

    // The audit shows each decision as an event of its own, and the review export names the campaign that kept a grant.
    const audit = await runCli(['audit', '--repo', fresh, '--format', 'json'], { env: {} });
    const reviewed = (
      JSON.parse(audit.stdout) as {
        events: { kind: string; app: string; user: string; review?: { decision: string; reason?: string } }[];
      }
    ).events
      .filter((e) => e.kind === 'reviewed')
      .map((e) => `${e.app}/${e.user} ${e.review!.decision} ${e.review!.reason ?? ''}`.trim());
    expect(reviewed.sort()).toEqual([
      'db/alice kept On call rota, OPS-7',
      'db/carol ended-by-review',
      'db/erin kept Loads the nightly batch',
      'wh/alice ended-by-default',
      'wh/bob ended-by-default',
    ]);
    git(fresh, ['pull', '-q', '--ff-only']);
    const review = await runCli(
      ['audit', '--repo', fresh, '--review', '--as-of', '2026-12-12T00:00:00Z', '--format', 'json'],
      { env: {} },
    );
    const exported = (
      JSON.parse(review.stdout) as {
        rows: { app: string; user: string; lastReview?: { campaign: string } }[];
      }
    ).rows;
    expect(exported.map((r) => `${r.app}/${r.user} ${r.lastReview?.campaign ?? '-'}`)).toEqual([
      'db/alice q4',
      'db/erin q4',
    ]);
  }, 180_000);
});
