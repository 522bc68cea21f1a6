import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewRow } from '../../src/audit/review.js';
import { auditJson, commitAs, mergeAs } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { prBase } from '../helpers/pull.js';
import { writeTree } from '../helpers/repo.js';

const grant = (user: string, permissions: string[]) =>
  `user: ${user}\napp: db\npermissions: [${permissions.join(', ')}]\n`;

/**
 * A history of merged pull requests and one direct push, with GitHub's side
 * of each merge on the loopback server: who opened it, its commits, its
 * reviews and who merged it.
 */
function history(server: GithubPullServer) {
  const dir = writeTree({ ...prBase, '.gitignore': '.iden/\n' });
  git(dir, ['init', '-q', '-b', 'main']);
  commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
  const c = {} as Record<string, string>;
  const pull = (
    number: number,
    author: string,
    files: Record<string, string>,
    reviews: (head: string, first: string) => { login: string; state: string; commit: string; at: string }[],
    mergedAt: string,
    mergedBy = 'carol-gh',
    twoCommits = false,
  ) => {
    const base = git(dir, ['rev-parse', 'HEAD']).trim();
    git(dir, ['checkout', '-q', '-b', `pr-${number}`]);
    writeTree(files, dir);
    const first = commitAs(dir, `pr ${number}`, '2026-08-01T10:00:00Z', 'Dave');
    let head = first;
    if (twoCommits) {
      writeTree({ [`notes-${number}.md`]: 'more\n' }, dir);
      head = commitAs(dir, `pr ${number} again`, '2026-08-01T11:00:00Z', 'Dave');
    }
    git(dir, ['checkout', '-q', 'main']);
    const merge = mergeAs(
      dir,
      `pr-${number}`,
      `Merge pull request #${number} from acme/pr-${number}`,
      mergedAt,
    );
    server.pulls.set(number, {
      number,
      author,
      head,
      base,
      reviews: reviews(head, first),
      commits: (twoCommits ? [first, head] : [head]).map((sha) => ({ sha, author, committer: author })),
      merged: { commit: merge, at: mergedAt, by: mergedBy },
    });
    return merge;
  };
  // dave asks for readonly; carol, the app's approver, approves the head before the merge.
  c.approved = pull(
    7,
    'dave-gh',
    { 'grants/db/dave.yaml': grant('dave', ['readonly']) },
    (head) => [{ login: 'carol-gh', state: 'APPROVED', commit: head, at: '2026-08-02T09:00:00Z' }],
    '2026-08-02T10:00:00Z',
  );
  // dave asks for writer; carol approved only his first commit, and someone outside _people.yaml approved the head.
  c.stale = pull(
    8,
    'dave-gh',
    { 'grants/db/dave.yaml': grant('dave', ['readonly', 'writer']) },
    (head, first) => [
      { login: 'carol-gh', state: 'APPROVED', commit: first, at: '2026-08-03T09:00:00Z' },
      { login: 'stranger', state: 'APPROVED', commit: head, at: '2026-08-03T09:30:00Z' },
    ],
    '2026-08-03T10:00:00Z',
    'dave-gh',
    true,
  );
  // bob, a Users Read/Write admin, grants erin writer directly and merges it himself.
  c.direct = pull(
    9,
    'bob-gh',
    { 'grants/db/frank.yaml': 'user: frank\napp: db\npermissions: [readonly]\n' },
    () => [],
    '2026-08-04T10:00:00Z',
    'bob-gh',
  );
  // carol approves after the merge: it let nothing in.
  c.late = pull(
    10,
    'dave-gh',
    { 'grants/db/carol.yaml': grant('carol', ['readonly']) },
    (head) => [{ login: 'carol-gh', state: 'APPROVED', commit: head, at: '2026-08-06T09:00:00Z' }],
    '2026-08-05T10:00:00Z',
  );
  // A push straight to main whose subject borrows #7, with a committed "review cache" claiming approval.
  writeTree(
    {
      'grants/db/mallory.yaml': grant('mallory', ['writer']),
      '.iden/cache/reviews/acme__access__7.json': '["carol-gh"]',
    },
    dir,
  );
  git(dir, ['add', '-f', '.iden/cache/reviews/acme__access__7.json']);
  c.pushed = commitAs(dir, 'Fix typo (#7)', '2026-08-06T10:00:00Z', 'Mallory');
  return { dir, c };
}

describe('approvals from GitHub, judged as check-pr judges', () => {
  const server = new GithubPullServer();
  let dir = '';
  let c: Record<string, string> = {};
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    await server.start();
    ({ dir, c } = history(server));
    env = {
      GITHUB_TOKEN: 't',
      GITHUB_API_URL: server.url,
      GITHUB_REPOSITORY: 'acme/access',
      XDG_CACHE_HOME: mkdtempSync(`${tmpdir()}/iden-cache-`),
    };
  });
  afterAll(() => server.stop());

  it('finds each merge commit’s pull request through GitHub, and counts only approvals the policy counts', async () => {
    const { events, warnings } = await auditJson(dir, [], { env });
    const by = (commit: string) => events.find((e) => e.commit === commit)!;
    expect(by(c.approved!)).toMatchObject({
      pr: 7,
      prSource: 'github',
      requestedBy: 'dave-gh',
      approvers: ['carol-gh'],
      approval: {
        ok: true,
        classification: 'access-request',
        approvedAt: '2026-08-02T09:00:00.000Z',
        mergedBy: 'carol-gh',
      },
    });
    // An approval of an older commit, and one by a stranger, count for nothing.
    expect(by(c.stale!)).toMatchObject({
      pr: 8,
      approvers: [],
      approval: { ok: false, classification: 'change' },
    });
    expect(by(c.direct!)).toMatchObject({
      pr: 9,
      approvers: [],
      approval: { ok: true, classification: 'direct-grant' },
    });
    // Approved only after the merge: it counts for nothing either.
    expect(by(c.late!)).toMatchObject({ pr: 10, approvers: [], approval: { ok: false } });
    // The subject's "(#7)" borrows nothing: GitHub knows no pull request merged as this commit.
    expect(by(c.pushed!).pr).toBeUndefined();
    expect(by(c.pushed!).approval).toMatchObject({ ok: false, classification: 'no-pull-request' });
    expect(warnings.map((w) => w.code)).toEqual(['no-records']);
    expect(server.errors).toEqual([]);
  });

  it('reads each merge from GitHub once, into the user cache, never from the repository', async () => {
    const before = server.requests.length;
    await auditJson(dir, [], { env });
    expect(server.requests.length).toBe(before);
    // A fresh cache reads again: nothing came from the .iden/cache file the push committed.
    await auditJson(dir, [], { env: { ...env, XDG_CACHE_HOME: mkdtempSync(`${tmpdir()}/iden-cache-`) } });
    expect(server.requests.length).toBeGreaterThan(before);
  });

  it('says when GitHub cannot be read, instead of showing no approvers', async () => {
    server.down = 502;
    try {
      const { events, warnings } = await auditJson(dir, [], {
        env: { ...env, XDG_CACHE_HOME: mkdtempSync(`${tmpdir()}/iden-cache-`) },
      });
      expect(warnings.find((w) => w.code === 'github-unavailable')!.message).toContain('502');
      const merged = events.find((e) => e.commit === c.approved)!;
      expect(merged).toMatchObject({ pr: 7, prSource: 'subject' });
      expect(merged.approvers).toBeUndefined();
    } finally {
      server.down = undefined;
    }
  });

  it('exports the access review: one row per person and entitlement, with requester, approvers and exceptions', async () => {
    const result = await runCli(['audit', '--repo', dir, '--review', '--app', 'db', '--format', 'json'], {
      env,
    });
    expect(result.code).toBe(0);
    const { rows } = JSON.parse(result.stdout) as { rows: ReviewRow[] };
    const row = (user: string, access: string) => rows.find((r) => r.user === user && r.access === access)!;
    expect(rows.map((r) => `${r.user} ${r.access}`)).toEqual([
      'carol readonly',
      'dave readonly',
      'dave writer',
      'erin readonly',
      'frank readonly',
      'mallory writer',
    ]);
    expect(row('dave', 'readonly')).toMatchObject({
      name: 'Dave',
      grantFile: 'grants/db/dave.yaml',
      requestedBy: 'dave',
      approvedBy: ['carol'],
      approvedAt: '2026-08-02T09:00:00.000Z',
      pr: 7,
      prUrl: 'https://github.com/acme/access/pull/7',
      commit: c.approved,
      applied: 'unknown',
    });
    expect(row('dave', 'readonly').flags).toEqual([]);
    expect(row('dave', 'writer').flags).toEqual(['no-eligible-approval', 'self-merge']);
    expect(row('frank', 'readonly').flags).toEqual([]);
    expect(row('carol', 'readonly').flags).toEqual(['no-eligible-approval']);
    expect(row('mallory', 'writer').flags).toEqual(['no-pull-request']);
    expect(row('erin', 'readonly')).toMatchObject({
      requestedBy: 'Alice Martin',
      flags: ['no-pull-request'],
    });

    const csv = await runCli(['audit', '--repo', dir, '--review', '--format', 'csv'], { env });
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'user,name,app,access,grant_file,since,requested_by,approved_by,approved_at,pr,pr_url,commit,applied_at,applied,flags,reason,end,rules,last_review',
    );
    expect(csv.stderr).toContain('warning: no apply records here');
  });
});
