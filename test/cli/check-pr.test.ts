import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type FileTree, writeTree } from '../helpers/repo.js';

const AT = '2026-11-27T12:00:00Z';

/** The base branch: alice is Super Admin, bob Users Read/Write, carol approves db, dave is nobody special. */
const base: FileTree = {
  'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n',
  'grants/_people.yaml': `people:
  - { id: alice, name: Alice, email: alice@example.com, accounts: { github: alice-gh } }
  - { id: bob, name: Bob, email: bob@example.com, accounts: { github: bob-gh } }
  - { id: carol, name: Carol, email: carol@example.com, accounts: { github: carol-gh } }
  - { id: dave, name: Dave, email: dave@example.com, accounts: { github: dave-gh } }
  - { id: erin, name: Erin, email: erin@example.com, accounts: { github: erin-gh } }
`,
  'grants/db/_app.yaml':
    'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol]\n',
  'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\nend: 2027-03-01\n',
};

/** A repository with the base on main and one pull-request branch changing `changes`; returns the head sha. */
function pullRequest(changes: FileTree, remove: string[] = []): { dir: string; head: string } {
  const dir = writeTree(base);
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'base']);
  git(dir, ['checkout', '-q', '-b', 'pr']);
  writeTree(changes, dir);
  for (const path of remove) rmSync(join(dir, path));
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'change']);
  return { dir, head: git(dir, ['rev-parse', 'HEAD']).trim() };
}

function reviews(
  dir: string,
  list: { login: string; state?: string; commit: string; at?: string }[],
): string {
  const file = join(dir, 'reviews.json');
  writeFileSync(
    file,
    JSON.stringify(
      list.map((r, i) => ({
        id: i + 1,
        user: { login: r.login },
        state: r.state ?? 'APPROVED',
        commit_id: r.commit,
        submitted_at: r.at ?? `2026-11-27T10:0${i}:00Z`,
      })),
    ),
  );
  return file;
}

async function check(dir: string, author: string, reviewsFile?: string) {
  const args = [
    'check-pr',
    '--repo',
    dir,
    '--base',
    'main',
    '--head',
    'pr',
    '--author',
    author,
    '--format',
    'json',
    '--at',
    AT,
  ];
  if (reviewsFile) args.push('--reviews', reviewsFile);
  const result = await runCli(args);
  return {
    code: result.code,
    ...(JSON.parse(result.stdout) as {
      ok: boolean;
      files: Record<string, unknown>[];
      effect: unknown[];
      scheduled: unknown[];
    }),
  };
}

const newGrant = { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n' };

describe('iden check-pr', () => {
  it("passes an admin's new grant as a direct grant, with no approval", async () => {
    const { dir } = pullRequest(newGrant);
    const result = await check(dir, 'bob-gh');
    expect(result.code).toBe(0);
    expect(result.files).toEqual([
      {
        file: 'grants/db/dave.yaml',
        change: 'added',
        classification: 'direct-grant',
        ok: true,
        reason: 'direct grant by bob-gh (Users Read/Write): no approval needed',
        reviews: [],
        approvers: [],
      },
    ]);
    expect(result.effect).toEqual([{ action: 'grant', app: 'db', user: 'dave', entitlement: 'readonly' }]);
  });

  it("holds anyone else's new grant as an access request until the app's approver approves the head", async () => {
    const { dir, head } = pullRequest(newGrant);
    const unapproved = await check(dir, 'dave-gh');
    expect(unapproved.code).toBe(1);
    expect(unapproved.files[0]).toMatchObject({ classification: 'access-request', ok: false });
    expect(String(unapproved.files[0]!.reason)).toMatch(
      /needs an approval of \w{7} by an approver of db or a Super Admin \(carol, alice\)/,
    );
    const approved = await check(dir, 'dave-gh', reviews(dir, [{ login: 'carol-gh', commit: head }]));
    expect(approved.code).toBe(0);
    expect(approved.files[0]).toMatchObject({
      classification: 'access-request',
      ok: true,
      reason: 'approved by carol',
    });
  });

  it('refuses self-approval, approvals of an earlier commit, and approvals later withdrawn', async () => {
    const { dir, head } = pullRequest(newGrant);
    expect((await check(dir, 'dave-gh', reviews(dir, [{ login: 'dave-gh', commit: head }]))).code).toBe(1);
    const base = git(dir, ['rev-parse', 'main']).trim();
    expect((await check(dir, 'dave-gh', reviews(dir, [{ login: 'carol-gh', commit: base }]))).code).toBe(1);
    const withdrawn = reviews(dir, [
      { login: 'carol-gh', commit: head, at: '2026-11-27T10:00:00Z' },
      { login: 'carol-gh', commit: head, state: 'CHANGES_REQUESTED', at: '2026-11-27T11:00:00Z' },
    ]);
    expect((await check(dir, 'dave-gh', withdrawn)).code).toBe(1);
    // A reviewer nobody knows, or one who approves nothing here, does not count either.
    expect(
      (
        await check(
          dir,
          'dave-gh',
          reviews(dir, [
            { login: 'mallory', commit: head },
            { login: 'bob-gh', commit: head },
          ]),
        )
      ).code,
    ).toBe(1);
  });

  it('requires approval when an admin changes existing access, even their own kind of change', async () => {
    const { dir, head } = pullRequest({
      'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\nend: 2027-12-31\n',
    });
    const refused = await check(dir, 'bob-gh');
    expect(refused.code).toBe(1);
    expect(refused.files[0]).toMatchObject({ change: 'modified', classification: 'change', ok: false });
    expect(refused.scheduled).toEqual([
      { action: 'revoke', app: 'db', user: 'erin', entitlement: 'readonly', at: '2027-12-31T00:00:00.000Z' },
    ]);
    expect((await check(dir, 'bob-gh', reviews(dir, [{ login: 'alice-gh', commit: head }]))).code).toBe(0);
  });

  it('lets an admin revoke, and makes anyone else ask', async () => {
    const { dir, head } = pullRequest({}, ['grants/db/erin.yaml']);
    expect((await check(dir, 'alice-gh')).files[0]).toMatchObject({
      change: 'deleted',
      classification: 'revocation',
      ok: true,
    });
    const request = await check(dir, 'dave-gh');
    expect(request.files[0]).toMatchObject({ classification: 'revocation-request', ok: false });
    expect((await check(dir, 'dave-gh', reviews(dir, [{ login: 'carol-gh', commit: head }]))).code).toBe(0);
    expect(request.effect).toEqual([{ action: 'revoke', app: 'db', user: 'erin', entitlement: 'readonly' }]);
  });

  it("needs a Super Admin's approval for settings, people, apps, schemas and workflows", async () => {
    const { dir, head } = pullRequest({
      'grants/db/_app.yaml':
        'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol, bob]\n',
      '.github/workflows/x.yml': 'on: push\n',
    });
    const files = (await check(dir, 'bob-gh')).files;
    expect(files.map((f) => `${f.file} ${f.classification} ${f.ok}`)).toEqual([
      '.github/workflows/x.yml policy false',
      'grants/db/_app.yaml policy false',
    ]);
    // A Users Read/Write admin cannot approve their own app change, nor can the app's approver.
    expect(
      (
        await check(
          dir,
          'bob-gh',
          reviews(dir, [
            { login: 'bob-gh', commit: head },
            { login: 'carol-gh', commit: head },
          ]),
        )
      ).code,
    ).toBe(1);
    expect((await check(dir, 'bob-gh', reviews(dir, [{ login: 'alice-gh', commit: head }]))).code).toBe(0);
  });

  it('reads roles from the base: a pull request cannot make its author an admin', async () => {
    const { dir } = pullRequest({
      'grants/_settings.yaml':
        'timezone: UTC\nroles:\n  super-admin: [alice, dave]\n  users-read-write: [bob]\n',
      'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly, writer]\n',
    });
    const result = await check(dir, 'dave-gh');
    expect(result.code).toBe(1);
    expect(result.files.map((f) => `${f.file} ${f.classification} ${f.ok}`)).toEqual([
      'grants/_settings.yaml policy false',
      'grants/db/dave.yaml access-request false',
    ]);
  });

  it('fails when the head does not validate, whoever wrote it', async () => {
    const { dir } = pullRequest({ 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonyl]\n' });
    const result = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'pr',
      '--author',
      'alice-gh',
      '--at',
      AT,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'NO  grants/db/dave.yaml  added  direct-grant: direct grant by alice-gh (Super Admin): no approval needed; does not validate',
    );
    expect(result.stdout).toContain('grants/db/dave.yaml:3:15 error unknown-permission');
  });

  it('exits 2 on usage errors', async () => {
    const { dir } = pullRequest(newGrant);
    expect((await runCli(['check-pr', '--repo', dir, '--base', 'main', '--head', 'pr'])).code).toBe(2);
    expect(
      (await runCli(['check-pr', '--repo', dir, '--base', 'main', '--head', 'nope', '--author', 'x'])).code,
    ).toBe(2);
    expect(
      (
        await runCli([
          'check-pr',
          '--repo',
          dir,
          '--base',
          'main',
          '--head',
          'pr',
          '--author',
          'x',
          '--reviews',
          join(dir, 'none.json'),
        ])
      ).code,
    ).toBe(2);
    expect((await runCli(['check-pr', '--repo', dir, '--pr', '3'])).code).toBe(2);
  });
});

describe('iden check-pr --pr against a GitHub test server', () => {
  it('reads the pull request and its reviews, sets iden/policy, and keeps one comment updated', async () => {
    const { GithubPullServer } = await import('../helpers/github-server.js');
    const server = new GithubPullServer();
    await server.start();
    try {
      const { dir, head } = pullRequest(newGrant);
      const baseSha = git(dir, ['rev-parse', 'main']).trim();
      server.pulls.set(12, {
        number: 12,
        author: 'dave-gh',
        head,
        base: baseSha,
        reviews: [],
        commits: [{ sha: head, author: 'dave-gh', committer: 'dave-gh' }],
      });
      const env = {
        GITHUB_TOKEN: 't',
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_API_URL: server.url,
      };
      const args = ['check-pr', '--repo', dir, '--pr', '12', '--comment', '--format', 'markdown', '--at', AT];

      const first = await runCli(args, { env });
      expect(first.code).toBe(1);
      expect(server.statuses.at(-1)).toMatchObject({ sha: head, state: 'failure', context: 'iden/policy' });
      expect(server.comments).toHaveLength(1);
      expect(server.comments[0]!.body).toContain('<!-- iden:check-pr -->');
      expect(server.comments[0]!.body).toContain('❌ this pull request may not be merged yet');

      // 121 reviews span two pages of 100; the last is carol's approval of the head.
      const noise = Array.from({ length: 120 }, (_, i) => ({
        login: 'erin-gh',
        state: 'COMMENTED',
        commit: head,
        at: new Date(Date.parse('2026-11-27T08:00:00Z') + i * 1000).toISOString(),
      }));
      server.pulls.get(12)!.reviews = [
        ...noise,
        { login: 'carol-gh', state: 'APPROVED', commit: head, at: '2026-11-27T11:00:00Z' },
      ];
      const second = await runCli(args, { env });
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('updated the iden comment on pull request #12');
      expect(server.comments).toHaveLength(1);
      expect(server.comments[0]!.body).toContain('✅ this pull request may be merged');
      expect(server.statuses.at(-1)).toMatchObject({ state: 'success' });
      expect(server.requests.filter((r) => r.endsWith('/reviews')).length).toBe(3);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('says in one line when GitHub cannot be reached, never a stack trace', async () => {
    const { createServer } = await import('node:net');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const { dir } = pullRequest(newGrant);
    const env = {
      GITHUB_TOKEN: 't',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: `http://127.0.0.1:${port}`,
    };
    const result = await runCli(['check-pr', '--repo', dir, '--pr', '12', '--at', AT], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `iden: reading pull request #12 of acme/access: could not reach GitHub at http://127.0.0.1:${port} (GET /repos/acme/access/pulls/12): connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });
});

describe('the pull-request comment', () => {
  it('escapes what people wrote and stays under the size limit, saying what it left out', async () => {
    const { checkMarkdown, COMMENT_LIMIT } = await import('../../src/report/check-pr.js');
    const many = Array.from({ length: 3000 }, (_, i) => ({
      action: 'grant' as const,
      app: 'db',
      user: `person-${i}`,
      entitlement: 'readonly',
    }));
    const text = checkMarkdown({
      ok: false,
      head: 'a'.repeat(40),
      base: 'b'.repeat(40),
      files: [
        {
          file: 'grants/db/x.yaml',
          change: 'added',
          classification: 'access-request',
          ok: false,
          reason: '@admins <img src=x> **now** | ok',
          reviews: [],
          approvers: [],
        },
      ],
      problems: [],
      diagnostics: [],
      effect: many,
      scheduled: many.map((m) => ({ ...m, at: '2027-02-01T00:00:00.000Z' })),
      grants: [],
      zone: 'Europe/Berlin',
    });
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(text).toContain('@\u200badmins &lt;img src=x\\> \\*\\*now\\*\\* \\| ok');
    expect(text).not.toMatch(/(^|[^\u200b])@admins/);
    expect(text).toMatch(/_\d+ more rows were left out to stay under GitHub's comment limit/);
    expect(text).toContain('<details><summary>What merging grants and revokes now (3000)</summary>');
    // Neither long section crowds the other out, and times read in the settings' zone.
    expect(text).toContain('<details><summary>Scheduled (3000)</summary>');
    expect(text).toContain('| 2027\\-02\\-01T01:00:00\\+01:00 | ➕ | person\\-0 |');
  });
});
