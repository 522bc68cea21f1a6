import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer, type PullCommitSpec } from '../helpers/github-server.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { writeTree } from '../helpers/repo.js';

/**
 * The second gate, end to end: a repository whose main branch holds grants
 * merged through approved pull requests, pushed directly, merged without an
 * eligible approval, and merged from pull requests whose check was bypassed
 * (a commit authored as GitHub, a stale base, an evil merge); a real embedded
 * database; the loopback GitHub, every request and response checked against
 * GitHub's description.
 */

const person = (id: string) =>
  `  - { id: ${id}, name: ${id}, email: ${id}@example.com, accounts: { github: ${id}-gh } }\n`;
const PEOPLE = `people:\n${['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivy', 'jo'].map(person).join('')}`;
const SETTINGS = 'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n';
const APP =
  'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\napprovers: [carol]\n';
const grant = (user: string) => `user: ${user}\napp: db\npermissions: [readonly]\n`;
const KEY = 'a record key only the apply job has';

let server: GithubPullServer;
beforeAll(async () => {
  server = new GithubPullServer();
  await server.start();
});
afterAll(() => server.stop());

function commitOn(dir: string, message: string, date: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message], date);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** A pull request branch off main, merged with a merge commit as GitHub's "Create a merge commit" does. */
function merged(
  dir: string,
  number: number,
  files: Record<string, string>,
  pull: { author: string; reviews?: string[]; commit?: Partial<PullCommitSpec>; day: string },
): string {
  git(dir, ['checkout', '-q', '-b', `pr${number}`, 'main']);
  writeTree(files, dir);
  const head = commitOn(dir, `change ${number}`, `${pull.day}T09:00:00Z`);
  const base = git(dir, ['rev-parse', 'main']).trim();
  git(dir, ['checkout', '-q', 'main']);
  git(
    dir,
    ['merge', '-q', '--no-ff', '-m', `Merge pull request #${number}`, `pr${number}`],
    `${pull.day}T11:00:00Z`,
  );
  const merge = git(dir, ['rev-parse', 'HEAD']).trim();
  server.pulls.set(number, {
    number,
    author: pull.author,
    head,
    base,
    reviews: (pull.reviews ?? []).map((login) => ({
      login,
      state: 'APPROVED',
      commit: head,
      at: `${pull.day}T10:00:00Z`,
    })),
    commits: [{ sha: head, author: pull.author, committer: pull.author, ...pull.commit }],
    merged: { commit: merge, at: `${pull.day}T11:00:00Z`, by: 'alice-gh' },
  });
  return merge;
}

async function roles(dir: string): Promise<string[]> {
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'db'));
  try {
    const rows = await db.query<{ member: string }>(
      "SELECT m.rolname AS member FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = 'db_read' ORDER BY 1",
    );
    return rows.rows.map((r) => r.member);
  } finally {
    await db.close();
  }
}

describe('apply grants only what an approved pull request merged', () => {
  it('applies approved merges and access from before verification began, holds the rest with why, and still removes', async () => {
    const env = {
      GITHUB_TOKEN: 't',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: server.url,
      IDEN_RECORD_KEY: KEY,
    };
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': SETTINGS,
      'grants/_people.yaml': PEOPLE,
      'grants/db/_app.yaml': APP,
      'grants/db/alice.yaml': grant('alice'),
      'grants/db/erin.yaml': grant('erin'),
    });
    git(dir, ['init', '-q', '-b', 'main']);
    const first = commitOn(dir, 'the access repository', '2026-11-01T09:00:00Z');
    writeTree({ 'grants/_settings.yaml': `${SETTINGS}policy:\n  verifyFrom: ${first}\n` }, dir);
    commitOn(dir, 'verify from here', '2026-11-01T10:00:00Z');
    seedEmbedded(dir, 'db');

    // What was in force when verification began is applied as it is.
    const start = await runCli(
      ['reconcile', '--repo', dir, '--yes', '--no-push', '--at', '2026-11-02T00:00:00Z'],
      { env },
    );
    expect(start.stdout).toContain('Applied: 2 granted');
    expect(await roles(dir)).toEqual(['alice', 'erin']);

    // Approved by the app's approver: applied.
    merged(
      dir,
      1,
      { 'grants/db/dave.yaml': grant('dave') },
      { author: 'dave-gh', reviews: ['carol-gh'], day: '2026-11-20' },
    );
    // Pushed straight to main.
    writeTree({ 'grants/db/frank.yaml': grant('frank') }, dir);
    commitOn(dir, 'frank', '2026-11-20T12:00:00Z');
    // Merged with an approval that is not eligible (bob approves no db request).
    merged(
      dir,
      2,
      { 'grants/db/gina.yaml': grant('gina') },
      { author: 'dave-gh', reviews: ['bob-gh'], day: '2026-11-21' },
    );
    // An admin's "direct grant" whose commit is authored as GitHub itself: its writer is nobody.
    merged(
      dir,
      3,
      { 'grants/db/hank.yaml': grant('hank') },
      {
        author: 'bob-gh',
        day: '2026-11-22',
        commit: { author: 'web-flow', authorEmail: 'noreply@github.com' },
      },
    );
    // A stale base: bob lost his role on main before his pull request was merged.
    writeTree(
      {
        'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\npolicy:\n  verifyFrom: ${first}\n`,
      },
      dir,
    );
    merged(dir, 4, {}, { author: 'alice-gh', reviews: [], day: '2026-11-23' });
    merged(dir, 5, { 'grants/db/ivy.yaml': grant('ivy') }, { author: 'bob-gh', day: '2026-11-23' });
    // erin's grant revoked by a direct push: removals are never held.
    git(dir, ['rm', '-q', 'grants/db/erin.yaml']);
    const revoked = commitOn(dir, 'revoke erin', '2026-11-24T09:00:00Z');
    const removal = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(removal.stdout).toContain('Applied: 1 granted, 1 revoked');
    expect(await roles(dir)).toEqual(['alice', 'dave']);
    // An evil merge: the pull request's own change is harmless, its merge brings erin back.
    git(dir, ['checkout', '-q', '-b', 'pr6', `${revoked}~1`]);
    writeTree({ 'docs/x.md': 'x\n' }, dir);
    const head6 = commitOn(dir, 'docs', '2026-11-25T09:00:00Z');
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['merge', '-q', '--no-ff', '--no-commit', 'pr6'], '2026-11-25T11:00:00Z');
    git(dir, ['checkout', `${revoked}~1`, '--', 'grants/db/erin.yaml']);
    const evil = commitOn(dir, 'Merge pull request #6', '2026-11-25T11:00:00Z');
    server.pulls.set(6, {
      number: 6,
      author: 'dave-gh',
      head: head6,
      base: revoked,
      // The check of old saw nothing to approve (one merge base showed no change); nobody approved.
      reviews: [],
      commits: [{ sha: head6, author: 'dave-gh', committer: 'dave-gh' }],
      merged: { commit: evil, at: '2026-11-25T11:00:00Z', by: 'alice-gh' },
    });

    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(run.code).toBe(1);
    const held = run.stdout.split('\n').filter((l) => l.startsWith('held:'));
    expect(held).toEqual([
      expect.stringMatching(
        /^held: erin in db is left as it is: not granted: grants\/db\/erin\.yaml came in through pull request #6 \(\w{7}\), which the policy did not approve: a change to existing access: this grant was revoked on 2026-11-24/,
      ),
      expect.stringMatching(
        /^held: frank in db is left as it is: not granted: grants\/db\/frank\.yaml came in through \w{7}, pushed to the branch without a merged pull request$/,
      ),
      expect.stringMatching(
        /^held: gina in db .* pull request #2 \(\w{7}\), which the policy did not approve: an access request: .*not counted: bob is not an approver of db or a Super Admin|^held: gina in db .* pull request #2 \(\w{7}\), which the policy did not approve: .*needs an approval/,
      ),
      expect.stringMatching(
        /^held: hank in db .* pull request #3 \(\w{7}\), which the policy did not approve: an access request: commit \w{7} is authored as GitHub itself/,
      ),
      expect.stringMatching(
        /^held: ivy in db .* pull request #5 \(\w{7}\), which the policy did not approve: an access request: bob-gh holds neither Super Admin nor Users Read\/Write/,
      ),
    ]);
    expect(run.stdout).not.toContain('Applied:');
    expect(await roles(dir)).toEqual(['alice', 'dave']);

    // The verdicts are in the signed record: the next run asks GitHub nothing it already asked.
    const notes = [revoked, 'HEAD'].flatMap((c) =>
      git(dir, ['notes', '--ref=iden', 'show', c])
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    const verified = notes.flatMap((n) => n.verified ?? []) as { path: string; ok: boolean; pr?: number }[];
    // Taken as they are, the people and the app (from before verifyFrom) need no verdict.
    expect(verified.map((v) => `${v.path} ${v.ok}${v.pr ? ` #${v.pr}` : ''}`).sort()).toEqual([
      'grants/db/dave.yaml true #1',
      'grants/db/erin.yaml false #6',
      'grants/db/frank.yaml false',
      'grants/db/gina.yaml false #2',
      'grants/db/hank.yaml false #3',
      'grants/db/ivy.yaml false #5',
    ]);
    const asked = server.requests.length;
    const again = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(again.code).toBe(1);
    expect(server.requests.length).toBe(asked);
    expect(server.errors).toEqual([]);
  });

  it('holds grants when GitHub cannot be asked, and applies them once it can', async () => {
    const env = { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': SETTINGS,
      'grants/_people.yaml': PEOPLE,
      'grants/db/_app.yaml': APP,
    });
    git(dir, ['init', '-q', '-b', 'main']);
    commitOn(dir, 'the access repository', '2026-11-01T09:00:00Z');
    seedEmbedded(dir, 'db');
    // Without verifyFrom every commit is verified: the people and the app came in by a direct push.
    merged(
      dir,
      11,
      { 'grants/db/jo.yaml': grant('jo') },
      { author: 'jo-gh', reviews: ['carol-gh'], day: '2026-11-20' },
    );
    const unverified = await runCli(['plan', '--repo', dir, '--format', 'json'], { env });
    expect(JSON.parse(unverified.stdout).held).toEqual([
      {
        app: 'db',
        user: 'jo',
        file: 'grants/db/_app.yaml',
        reason: expect.stringMatching(
          /^not granted: grants\/db\/_app\.yaml came in through \w{7}, pushed to the branch without a merged pull request$/,
        ),
      },
    ]);
    writeTree(
      {
        'grants/_settings.yaml': `${SETTINGS}policy:\n  verifyFrom: ${git(dir, ['rev-list', '--max-parents=0', 'HEAD']).trim()}\n`,
      },
      dir,
    );
    commitOn(dir, 'verify from the first commit', '2026-11-21T09:00:00Z');

    server.down = 503;
    const down = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    server.down = undefined;
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(
      /held: jo in db is left as it is: not granted: cannot verify grants\/db\/jo\.yaml \(\w{7}\): .*503/,
    );
    expect(await roles(dir).catch(() => [])).toEqual([]);
    const up = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('Applied: 1 granted');
    expect(readFileSync(join(dir, 'grants/db/jo.yaml'), 'utf8')).toBe(grant('jo'));
    expect(await roles(dir)).toEqual(['jo']);
  });

  it('is off only where the settings say so, in one line, as the example does', async () => {
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': `${SETTINGS}policy:\n  verifyMerges: false\n`,
      'grants/_people.yaml': PEOPLE,
      'grants/db/_app.yaml': APP,
      'grants/db/jo.yaml': grant('jo'),
    });
    git(dir, ['init', '-q', '-b', 'main']);
    commitOn(dir, 'no GitHub here', '2026-11-01T09:00:00Z');
    seedEmbedded(dir, 'db');
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push']);
    expect(run.stderr).toContain(
      'notice: apply-time verification is off (policy.verifyMerges: false in grants/_settings.yaml, and no GitHub to verify against): what the branch says is applied without checking it came through an approved pull request\n',
    );
    expect(run.code).toBe(0);
    // With GitHub, an opt-out that was itself pushed straight to the branch is ignored.
    const env = { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    writeTree({ 'grants/db/ivy.yaml': grant('ivy') }, dir);
    commitOn(dir, 'ivy', '2026-11-02T09:00:00Z');
    const ignored = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(ignored.stderr).toMatch(
      /notice: policy\.verifyMerges: false is ignored: grants\/_settings\.yaml came in through \w{7}, pushed to the branch without a merged pull request/,
    );
    expect(ignored.stdout).toContain('held: ivy in db');
    expect(ignored.code).toBe(1);
  });
});

describe('how a pull request landed', () => {
  it('judges a rebase-merged pull request as a whole, whichever of its commits brought a file; and a squash as one commit', async () => {
    const env = { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': SETTINGS,
      'grants/_people.yaml': PEOPLE,
      'grants/db/_app.yaml': APP,
    });
    git(dir, ['init', '-q', '-b', 'main']);
    const first = commitOn(dir, 'the access repository', '2026-11-01T09:00:00Z');
    writeTree({ 'grants/_settings.yaml': `${SETTINGS}policy:\n  verifyFrom: ${first}\n` }, dir);
    commitOn(dir, 'verify from here', '2026-11-01T10:00:00Z');
    seedEmbedded(dir, 'db');
    const base = git(dir, ['rev-parse', 'HEAD']).trim();

    // A pull request of two commits: the grant, then a note. carol approved its head.
    git(dir, ['checkout', '-q', '-b', 'pr21']);
    writeTree({ 'grants/db/gina.yaml': grant('gina') }, dir);
    const c1 = commitOn(dir, 'gina', '2026-11-10T09:00:00Z');
    writeTree({ 'docs/gina.md': 'why\n' }, dir);
    const c2 = commitOn(dir, 'a note', '2026-11-10T09:05:00Z');
    // "Rebase and merge": each commit replayed on main, author, date and message kept.
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['cherry-pick', '--allow-empty', c1, c2], '2026-11-11T10:00:00Z');
    const landed = git(dir, ['rev-list', '--first-parent', '-2', 'HEAD']).trim().split('\n').reverse();
    const spec = (sha: string, message: string, date: string) => ({
      sha,
      author: 'dave-gh',
      committer: 'dave-gh',
      authorEmail: 'alice@example.com',
      message,
      authorDate: date,
    });
    server.pulls.set(21, {
      number: 21,
      author: 'dave-gh',
      head: c2,
      base,
      reviews: [{ login: 'carol-gh', state: 'APPROVED', commit: c2, at: '2026-11-11T09:00:00Z' }],
      commits: [spec(c1, 'gina', '2026-11-10T09:00:00Z'), spec(c2, 'a note', '2026-11-10T09:05:00Z')],
      merged: { commit: landed[1]!, at: '2026-11-11T10:00:00Z', by: 'carol-gh', landed },
    });
    const rebased = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(rebased.stdout).toContain('Applied: 1 granted');

    // A squash: one new commit, the pull request's own two commits never on main. Nobody approved this one.
    git(dir, ['checkout', '-q', '-b', 'pr22']);
    writeTree({ 'grants/db/hank.yaml': grant('hank') }, dir);
    const s1 = commitOn(dir, 'hank', '2026-11-12T09:00:00Z');
    writeTree({ 'docs/hank.md': 'why\n' }, dir);
    const s2 = commitOn(dir, 'a note', '2026-11-12T09:05:00Z');
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['merge', '-q', '--squash', 'pr22']);
    const squash = commitOn(dir, 'hank (#22)', '2026-11-12T10:00:00Z');
    server.pulls.set(22, {
      number: 22,
      author: 'dave-gh',
      head: s2,
      base: landed[1]!,
      reviews: [],
      commits: [spec(s1, 'hank', '2026-11-12T09:00:00Z'), spec(s2, 'a note', '2026-11-12T09:05:00Z')],
      merged: { commit: squash, at: '2026-11-12T10:00:00Z', by: 'dave-gh' },
    });
    const squashed = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push'], { env });
    expect(squashed.stdout).toMatch(
      /held: hank in db is left as it is: not granted: grants\/db\/hank\.yaml came in through pull request #22 \(\w{7}\), which the policy did not approve: an access request/,
    );
    expect(await roles(dir)).toEqual(['gina']);
    expect(server.errors).toEqual([]);
  });
});
