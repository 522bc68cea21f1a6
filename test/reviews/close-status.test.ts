import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoContext } from '../../src/github/client.js';
import { mergePull } from '../../src/github/pulls.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type World, world } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** The latest iden/policy status GitHub holds for a commit, as branch protection reads it. */
function policyStatus(w: World, sha: string) {
  return w.server.statuses.filter((s) => s.sha === sha && s.context === 'iden/policy').at(-1);
}

/** Branch protection requiring iden/policy, as the scheduled close meets it: no workflow runs for its push. */
async function protectedWorld(): Promise<World> {
  const made = await world();
  made.server.requiredChecks = ['iden/policy'];
  const start = await made.iden(['review', 'start', '--due', '2026-12-11', '--name', 'q4'], 'alice');
  expect(start.code, start.stderr).toBe(0);
  return made;
}

describe('review close under branch protection that requires iden/policy', () => {
  it('the loopback GitHub refuses a merge without a latest success iden/policy on the head, as GitHub does', async () => {
    w = await protectedWorld();
    const github = repoContext(w.env, 'acme/access');
    const pull = w.server.pulls.get(1)!;
    const head = git(w.remote, ['rev-parse', `refs/heads/${pull.headRef}`]).trim();
    const merge = () => mergePull(github, 1, head, 'merge', '');
    await expect(merge()).rejects.toThrow(
      'GitHub answered 405 to PUT /repos/acme/access/pulls/1/merge: Required status check "iden/policy" is expected.',
    );
    const status = (state: 'success' | 'failure') =>
      github.octokit.rest.repos.createCommitStatus({
        owner: 'acme',
        repo: 'access',
        sha: head,
        state,
        context: 'iden/policy',
        description: `set by hand: ${state}`,
      });
    // The latest status of the context decides: a failure after a success refuses.
    await status('success');
    await status('failure');
    await expect(merge()).rejects.toThrow('Required status check "iden/policy" is failing.');
    await status('success');
    expect(await merge()).toMatch(/^[0-9a-f]{40}$/);
    expect(w.server.errors).toEqual([]);
  }, 180_000);

  it('close sets a success iden/policy on each head it rebuilt, judged as check-pr judges, and every pull request merges', async () => {
    w = await protectedWorld();
    const before = w.server.requests.length;
    const closed = await w.iden(
      ['review', 'close', 'q4', '--at', '2026-12-11'],
      'alice',
      '2026-12-11T00:00:00Z',
    );
    expect(closed.stderr).toBe('');
    expect(closed.code).toBe(0);
    const requests = w.server.requests.slice(before);
    expect(closed.stdout).toBe(
      [
        'bob #1: merged (0 kept, 1 ending (1 by default), 0 dropped out).',
        'carol #2: merged (0 kept, 2 ending (2 by default), 0 dropped out).',
        'dave #3: merged (0 kept, 2 ending (2 by default), 0 dropped out).',
        // per reviewer: the pull request, its reviews, the pull request again (with reviews and commits), the status, the merge, one comment
        `${requests.length} GitHub requests.`,
        '',
      ].join('\n'),
    );
    expect(requests).toHaveLength(24);
    const tip = git(w.remote, ['rev-parse', 'main']).trim();
    for (const pull of w.server.pulls.values()) {
      expect(pull.merged).toBeDefined();
      // The head GitHub merged carries the close's status, set before the merge, against the tip it was built on.
      const status = policyStatus(w, pull.head);
      expect(status?.state).toBe('success');
      expect(status?.description).toMatch(/^access policy satisfied against main@[0-9a-f]{7}$/);
      expect(git(w.remote, ['merge-base', '--is-ancestor', pull.head, tip])).toBe('');
    }
    expect(w.server.statuses).toHaveLength(3);
    expect(requests.filter((r) => r.startsWith('POST /repos/acme/access/statuses/'))).toHaveLength(3);
    expect(w.server.errors).toEqual([]);
  }, 180_000);

  it('a rebuilt head the judge refuses is not merged: its status fails as check-pr would set it, and the close says why', async () => {
    w = await protectedWorld();
    // Mid-campaign, bob's pull request is retargeted (GitHub's "Edit" of its base) to a branch that is not protected.
    git(w.remote, ['branch', 'staging', 'main']);
    const staging = git(w.remote, ['rev-parse', 'staging']);
    w.server.pulls.get(1)!.baseRef = 'staging';
    // And a Super Admin drops the lake's readonly entitlement on main: dave's ends would not validate.
    const alice = w.clone('alice');
    git(alice, ['pull', '-q', '--ff-only']);
    writeFileSync(
      join(alice, 'grants/wh/_app.yaml'),
      'name: Lake\nconnector: { type: postgres }\nentitlements:\n  - { id: admin, kind: role, role: wh_admin }\napprovers: [dave]\n',
    );
    git(alice, ['commit', '-qam', 'the lake has no readonly role any more']);
    git(alice, ['push', '-q', 'origin', 'main']);

    const before = w.server.requests.length;
    const closed = await w.iden(
      ['review', 'close', 'q4', '--at', '2026-12-11'],
      'alice',
      '2026-12-11T00:00:00Z',
    );
    expect(closed.stderr).toBe('');
    expect(closed.code).toBe(1);
    expect(w.server.requests.length - before).toBe(26);
    const lines = closed.stdout.split('\n');
    expect(lines[0]).toBe(
      'bob #1: not merged: the pull request merges into staging, not the protected branch main: access changes are checked only against main (iden/policy failed on its head).',
    );
    expect(lines[1]).toBe('carol #2: merged (0 kept, 2 ending (2 by default), 0 dropped out).');
    expect(lines[2]).toMatch(
      /^dave #3: not merged: grants\/wh\/alice\.yaml: .*does not validate: .*readonly.* \(iden\/policy failed on its head\)\.$/,
    );
    // 8 requests for a merged pull request; a refused one makes no merge or close comment, but
    // leaves check-pr's comment: who iden is (GET /user), the comments, one comment (9).
    expect(lines[3]).toBe('26 GitHub requests.');

    const [bob, carol, dave] = [1, 2, 3].map((n) => w!.server.pulls.get(n)!);
    expect(bob!.merged).toBeUndefined();
    expect(dave!.merged).toBeUndefined();
    expect(carol!.merged).toBeDefined();
    expect(git(w.remote, ['rev-parse', 'staging'])).toBe(staging);
    expect(git(w.remote, ['show', 'main:grants/wh/alice.yaml'])).toBe(
      'user: alice\napp: wh\npermissions: [readonly]\n',
    );
    // The refused heads are the ones the close pushed, and they carry a failure with check-pr's description.
    expect(policyStatus(w, bob!.head)).toMatchObject({
      state: 'failure',
      description:
        'the pull request merges into staging, not the protected branch main: access changes are checked only against main',
    });
    const daveStatus = policyStatus(w, dave!.head)!;
    expect(daveStatus.state).toBe('failure');
    expect(daveStatus.description).toMatch(
      /^\d+ problem\(s\) against main@[0-9a-f]{7}: see the iden comment$/,
    );
    // ... and the iden comment is there, as check-pr --comment leaves it.
    const comment = w.server.comments.find(
      (c) => c.issue === 3 && c.body.startsWith('<!-- iden:check-pr -->'),
    );
    expect(comment?.body).toContain('this pull request may not be merged yet');

    // check-pr on the same pull request gives the very same verdict and description.
    for (const [n, head] of [
      [1, bob!.head],
      [3, dave!.head],
    ] as const) {
      const closeStatus = policyStatus(w, head)!;
      const check = await runCli(['check-pr', '--repo', alice, '--pr', String(n), '--at', '2026-12-11'], {
        env: w.env,
      });
      expect(check.code).toBe(1);
      const checked = policyStatus(w, head)!;
      expect(checked).not.toBe(closeStatus);
      expect({ state: checked.state, description: checked.description }).toEqual({
        state: closeStatus.state,
        description: closeStatus.description,
      });
    }

    // The schedule's close --all tries again (rebuilding on main as it is now), refuses again, and fails the run.
    const again = await w.iden(
      ['review', 'close', '--all', '--at', '2026-12-12'],
      'alice',
      '2026-12-12T00:00:00Z',
    );
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('q4: closed\n  bob #1: not merged: the pull request merges into staging');
    expect(again.stdout).toContain('  carol #2: merged already; left as it is.\n  dave #3: not merged: ');
    expect(policyStatus(w, w.server.pulls.get(3)!.head)?.state).toBe('failure');
    expect(w.server.pulls.get(3)!.merged).toBeUndefined();
    // check-pr's one comment, updated, never a second.
    expect(
      w.server.comments.filter((c) => c.issue === 3 && c.body.startsWith('<!-- iden:check-pr -->')),
    ).toHaveLength(1);
    expect(w.server.errors).toEqual([]);
  }, 180_000);
});
