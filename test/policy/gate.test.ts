import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer, type PullCommitSpec } from '../helpers/github-server.js';
import { AT, brief, checkLocal, prBase, pullRequest, reviewsFile } from '../helpers/pull.js';
import { writeTree } from '../helpers/repo.js';

/** The attacks of issue 26, each on a real repository and, where GitHub is part of it, the loopback GitHub. */

const SETTINGS = 'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n';

async function onGithub<T>(
  run: (server: GithubPullServer, env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  const server = new GithubPullServer();
  await server.start();
  try {
    const env = {
      GITHUB_TOKEN: 't',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: server.url,
    };
    const result = await run(server, env);
    expect(server.errors).toEqual([]);
    return result;
  } finally {
    await server.stop();
  }
}

const json = (stdout: string) =>
  JSON.parse(stdout) as {
    ok: boolean;
    problems: string[];
    files: { file: string; classification: string; ok: boolean; reason: string }[];
    diagnostics: { file: string; code: string }[];
  };

/** Commits as a given person, on the current branch. */
function commit(dir: string, message: string, date = '2026-11-25T10:00:00Z'): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message], date);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

describe('1. a pull request into the attacker’s own branch', () => {
  it('never sets a success status: roles and the protected branch come from the default branch’s tip', async () => {
    await onGithub(async (server, env) => {
      const { dir } = pullRequest({});
      git(dir, ['checkout', '-q', 'main']);
      // dave pushes a branch of his own whose settings protect it and make him Super Admin…
      git(dir, ['checkout', '-q', '-b', 'evil']);
      writeTree(
        {
          'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [dave]\npolicy: { branch: evil }\n',
        },
        dir,
      );
      const evil = commit(dir, 'my branch');
      // …and a pull request granting himself writer, first into that branch, then into main.
      git(dir, ['checkout', '-q', '-b', 'grab']);
      writeTree({ 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [writer]\n' }, dir);
      const head = commit(dir, 'writer for me');
      const commits = [{ sha: head, author: 'dave-gh', committer: 'dave-gh' }];
      server.pulls.set(1, {
        number: 1,
        author: 'dave-gh',
        head,
        base: evil,
        baseRef: 'evil',
        reviews: [],
        commits,
      });
      const base = git(dir, ['rev-parse', 'main']).trim();
      server.pulls.set(2, {
        number: 2,
        author: 'dave-gh',
        head,
        base,
        baseRef: 'main',
        reviews: [],
        commits,
      });

      const intoEvil = await runCli(
        ['check-pr', '--repo', dir, '--pr', '1', '--format', 'json', '--at', AT],
        {
          env,
        },
      );
      expect(json(intoEvil.stdout).problems).toEqual([
        'the pull request merges into evil, not the protected branch main: access changes are checked only against main',
      ]);
      const intoMain = await runCli(
        ['check-pr', '--repo', dir, '--pr', '2', '--format', 'json', '--at', AT],
        {
          env,
        },
      );
      // Into main, the branch's settings are a policy change of their own, and the grant is a request.
      expect(json(intoMain.stdout).files.map((f) => `${f.file} ${f.classification} ${f.ok}`)).toEqual([
        'grants/_settings.yaml policy false',
        'grants/db/dave.yaml access-request false',
      ]);
      // No status says success for the head, whichever pull request was checked.
      expect(server.statuses.filter((s) => s.sha === head).map((s) => s.state)).toEqual([
        'failure',
        'failure',
      ]);
    });
  });
});

describe('2. a criss-cross merge', () => {
  it('is judged as git merges it: a revoked grant it brings back is seen, whichever merge base git prints', async () => {
    const { dir } = pullRequest({});
    git(dir, ['checkout', '-q', 'main']);
    const a = git(dir, ['rev-parse', 'HEAD']).trim();
    // main revokes erin; a branch made at the same point changes something else.
    git(dir, ['rm', '-q', 'grants/db/erin.yaml']);
    const revoke = commit(dir, 'revoke erin', '2026-11-25T10:00:00Z');
    git(dir, ['checkout', '-q', '-b', 'side', a]);
    writeTree({ 'docs/notes.md': 'x\n' }, dir);
    const side = commit(dir, 'notes', '2026-11-25T11:00:00Z');
    // Each merges the other: main takes the notes; the branch takes the revocation, but keeps erin.
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['merge', '-q', '--no-ff', '-m', 'notes', side], '2026-11-25T12:00:00Z');
    git(dir, ['checkout', '-q', 'side']);
    git(dir, ['merge', '-q', '--no-ff', '--no-commit', revoke], '2026-11-25T12:00:00Z');
    git(dir, ['checkout', a, '--', 'grants/db/erin.yaml']);
    const head = commit(dir, 'Merge main', '2026-11-25T12:00:00Z');
    // Two merge bases; from one of them the branch changes nothing at all.
    const bases = git(dir, ['merge-base', '--all', 'main', head]).trim().split('\n').sort();
    expect(bases).toEqual([revoke, side].sort());
    expect(git(dir, ['diff', '--name-only', side, head]).trim()).toBe('');

    const result = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      head,
      '--author',
      'dave-gh',
      '--format',
      'json',
      '--at',
      AT,
    ]);
    const checked = json(result.stdout);
    expect(result.code).toBe(1);
    expect(checked.files).toMatchObject([
      { file: 'grants/db/erin.yaml', classification: 'change', ok: false },
    ]);
    expect(checked.files[0]!.reason).toContain('this grant was revoked on 2026-11-25');
  });

  it('fails a pull request that does not merge, naming the paths', async () => {
    const { dir, head } = pullRequest({
      'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [writer]\n',
    });
    git(dir, ['checkout', '-q', 'main']);
    writeTree(
      { 'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\nend: 2027-01-01\n' },
      dir,
    );
    commit(dir, 'shorter');
    const result = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      head,
      '--author',
      'bob-gh',
      '--format',
      'json',
      '--at',
      AT,
    ]);
    expect(result.code).toBe(1);
    expect(json(result.stdout).problems[0]).toMatch(
      /^the pull request does not merge into main@\w{7}: grants\/db\/erin\.yaml conflict; update the branch$/,
    );
  });
});

describe('3. one account, two people', () => {
  const robert = '  - { id: robert, name: Robert, email: robert@example.com, accounts: { db: bob } }\n';

  it('makes a new person with an account a policy change, and the shared account an error', async () => {
    const people = `${prBase['grants/_people.yaml']}${robert}`;
    const { dir, head } = pullRequest({ 'grants/_people.yaml': people });
    // A Users Read/Write admin may approve names and emails, not an account.
    const checked = await checkLocal(dir, 'erin-gh', {
      reviews: reviewsFile(dir, [{ login: 'bob-gh', commit: head }]),
    });
    expect(brief(checked)).toEqual(['grants/_people.yaml policy false']);
    expect(checked.files[0]!.reason).toContain('needs an approval');
    expect(checked.diagnostics.map((d) => d.code)).toContain('duplicate-account');
    const validate = await runCli(['validate', '--repo', dir, '--format', 'json', '--at', AT]);
    expect(validate.stdout).toContain(
      "robert's account bob in db is also bob's: one account is one person's; give each their own (accounts.db)",
    );
  });

  it('decides whose access it is by account: a grant to a second name for oneself is never direct, nor self-approved', async () => {
    const base = { ...prBase, 'grants/_people.yaml': `${prBase['grants/_people.yaml']}${robert}` };
    const { dir, head } = pullRequest(
      { 'grants/db/robert.yaml': 'user: robert\napp: db\npermissions: [writer]\n' },
      { base },
    );
    const byBob = await checkLocal(dir, 'bob-gh');
    expect(byBob.files).toMatchObject([{ classification: 'access-request', ok: false }]);
    expect(byBob.files[0]!.reason).toContain('bob cannot grant their own access');
    // And the approver whose account it is cannot approve it for "someone else".
    const carolAlias = {
      ...prBase,
      'grants/_people.yaml': `${prBase['grants/_people.yaml']}  - { id: cee, name: Cee, email: cee@example.com, accounts: { db: carol } }\n`,
    };
    const pr = pullRequest(
      { 'grants/db/cee.yaml': 'user: cee\napp: db\npermissions: [writer]\n' },
      { base: carolAlias },
    );
    const approved = await checkLocal(pr.dir, 'dave-gh', {
      reviews: reviewsFile(pr.dir, [{ login: 'carol-gh', commit: pr.head }]),
    });
    expect(approved.files[0]!.ok).toBe(false);
    expect(approved.files[0]!.reviews[0]!.why).toBe('not counted: carol it is their own access');
    expect(head).toMatch(/^[0-9a-f]{40}$/);
  });

  it('makes an email change a policy change where an app names accounts by email', async () => {
    const base = {
      ...prBase,
      'grants/sf/_app.yaml':
        'name: SF\nconnector: { type: scim, baseUrl: https://sf.example.com/scim/v2, tokenEnv: SF }\nentitlements:\n  - { id: rep, kind: role, role: Rep }\napprovers: [carol]\n',
    };
    const people = prBase['grants/_people.yaml']!.toString().replace('dave@example.com', 'boss@example.com');
    const { dir } = pullRequest({ 'grants/_people.yaml': people }, { base });
    const checked = await checkLocal(dir, 'bob-gh');
    expect(checked.files[0]!.reason).toMatch(/^a policy change: needs an approval of \w{7} by a Super Admin/);
    // Without such an app it is a rename, for a Users Read/Write admin to approve.
    const plain = pullRequest({ 'grants/_people.yaml': people });
    expect((await checkLocal(plain.dir, 'erin-gh')).files[0]!.reason).toContain(
      'by a Super Admin or a Users Read/Write admin',
    );
  });
});

describe('4. GitHub’s own identity and renamed logins', () => {
  it('names nobody for a commit authored as GitHub, or committed as GitHub unsigned; and a recycled login counts for nothing', async () => {
    await onGithub(async (server, env) => {
      const people = prBase['grants/_people.yaml']!.toString().replace(
        'accounts: { github: carol-gh } }',
        'accounts: { github: carol-gh }, githubId: 4242 }',
      );
      const { dir, head } = pullRequest(
        { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n' },
        { base: { ...prBase, 'grants/_people.yaml': people } },
      );
      const base = git(dir, ['rev-parse', 'main']).trim();
      const check = async (commits: PullCommitSpec[]) => {
        server.pulls.set(3, { number: 3, author: 'bob-gh', head, base, reviews: [], commits });
        const out = await runCli(['check-pr', '--repo', dir, '--pr', '3', '--format', 'json', '--at', AT], {
          env,
        });
        return json(out.stdout).files[0]!;
      };
      expect(await check([{ sha: head, author: 'bob-gh', committer: 'bob-gh' }])).toMatchObject({
        classification: 'direct-grant',
      });
      const forged = await check([
        { sha: head, author: 'web-flow', committer: 'bob-gh', authorEmail: 'noreply@github.com' },
      ]);
      expect(forged).toMatchObject({ classification: 'access-request', ok: false });
      expect(forged.reason).toContain('is authored as GitHub itself (web-flow), which names nobody');
      const unsigned = await check([
        { sha: head, author: 'bob-gh', committer: 'web-flow', committerEmail: 'noreply@github.com' },
      ]);
      expect(unsigned.reason).toContain(
        "committed as GitHub itself (web-flow) without GitHub's verified signature",
      );

      // carol's login now belongs to another account: its approval is not carol's.
      server.ids.set('carol-gh', 9999);
      server.pulls.set(4, {
        number: 4,
        author: 'dave-gh',
        head,
        base,
        reviews: [{ login: 'carol-gh', state: 'APPROVED', commit: head, at: '2026-11-27T10:00:00Z' }],
        commits: [{ sha: head, author: 'dave-gh', committer: 'dave-gh' }],
      });
      const recycled = json(
        (await runCli(['check-pr', '--repo', dir, '--pr', '4', '--format', 'json', '--at', AT], { env }))
          .stdout,
      );
      expect(recycled.files[0]).toMatchObject({ ok: false });
      server.ids.set('carol-gh', 4242);
      const same = json(
        (await runCli(['check-pr', '--repo', dir, '--pr', '4', '--format', 'json', '--at', AT], { env }))
          .stdout,
      );
      expect(same.files[0]).toMatchObject({ ok: true });
    });
  });
});

describe('5. a stale base', () => {
  it('judges by the protected branch as it is now, not as GitHub’s base commit of the pull request had it', async () => {
    await onGithub(async (server, env) => {
      const { dir, head } = pullRequest({
        'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n',
      });
      const stale = git(dir, ['rev-parse', 'main']).trim();
      // Since the pull request was opened, main took bob's role away.
      git(dir, ['checkout', '-q', 'main']);
      writeTree({ 'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n' }, dir);
      commit(dir, 'bob is no longer an admin');
      server.pulls.set(6, {
        number: 6,
        author: 'bob-gh',
        head,
        base: stale,
        reviews: [],
        commits: [{ sha: head, author: 'bob-gh', committer: 'bob-gh' }],
      });
      const out = json(
        (await runCli(['check-pr', '--repo', dir, '--pr', '6', '--format', 'json', '--at', AT], { env }))
          .stdout,
      );
      expect(out.files[0]).toMatchObject({ classification: 'access-request', ok: false });
    });
  });
});

describe('6. what CI runs is never exempt', () => {
  it.each([
    'package.json',
    'package-lock.json',
    'npm-shrinkwrap.json',
    '.npmrc',
    '.nvmrc',
    'Dockerfile',
    'app/package.json',
  ])('%s needs a Super Admin whatever policy.exempt says, and validate names the glob', async (path) => {
    const base = { ...prBase, 'grants/_settings.yaml': `${SETTINGS}policy:\n  exempt: ['*', '**']\n` };
    const { dir } = pullRequest({ [path]: 'x\n' }, { base });
    expect(brief(await checkLocal(dir, 'dave-gh'))).toEqual([`${path} policy false`]);
    const validate = json((await runCli(['validate', '--repo', dir, '--format', 'json', '--at', AT])).stdout);
    expect(validate.diagnostics.map((d) => d.code)).toEqual(['exempt-protected', 'exempt-protected']);
  });
});

describe('7. a link out of grants/', () => {
  it('is an error, and the file it names is not read: its exemption gives no one a role', async () => {
    const base = { ...prBase, 'docs/settings.yaml': `${SETTINGS}policy:\n  exempt: ['docs/**']\n` };
    const { dir } = pullRequest({}, { base });
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['rm', '-q', 'grants/_settings.yaml']);
    symlinkSync('../docs/settings.yaml', join(dir, 'grants/_settings.yaml'));
    commit(dir, 'settings live in docs');
    const validate = json((await runCli(['validate', '--repo', dir, '--format', 'json', '--at', AT])).stdout);
    expect(validate.diagnostics.map((d) => `${d.file} ${d.code}`)).toContain('grants/_settings.yaml symlink');
    // dave makes himself Super Admin through the file the link names.
    git(dir, ['checkout', '-q', '-b', 'me']);
    writeFileSync(
      join(dir, 'docs/settings.yaml'),
      "timezone: UTC\nroles:\n  super-admin: [dave]\npolicy:\n  exempt: ['docs/**']\n",
    );
    commit(dir, 'me');
    const out = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'me',
      '--author',
      'dave-gh',
      '--format',
      'json',
      '--at',
      AT,
    ]);
    expect(json(out.stdout).files).toMatchObject([
      { file: 'docs/settings.yaml', classification: 'policy', ok: false },
    ]);
    // Adding such a link is a policy change itself.
    const added = pullRequest({}, { links: { 'grants/db/dave.yaml': 'erin.yaml' } });
    expect(brief(await checkLocal(added.dir, 'bob-gh'))).toEqual(['grants/db/dave.yaml policy false']);
  });
});

describe('8. revoke, then grant again', () => {
  it('judges a new grant of what was revoked within 30 days as a change that needs an approver', async () => {
    const { dir } = pullRequest({});
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['rm', '-q', 'grants/db/erin.yaml']);
    commit(dir, 'revoke erin', '2026-11-20T09:00:00Z');
    git(dir, ['checkout', '-q', '-b', 'again']);
    writeTree({ 'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [writer]\n' }, dir);
    commit(dir, 'erin again, as writer');
    const out = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'again',
      '--author',
      'bob-gh',
      '--format',
      'json',
      '--at',
      AT,
    ]);
    const file = json(out.stdout).files[0]!;
    expect(file).toMatchObject({ classification: 'change', ok: false });
    expect(file.reason).toContain('this grant was revoked on 2026-11-20');
    expect(file.reason).toContain('needs an approval');
    // Long after, it is a new grant again.
    const later = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'again',
      '--author',
      'bob-gh',
      '--format',
      'json',
      '--at',
      '2027-01-15T00:00:00Z',
    ]);
    expect(json(later.stdout).files[0]).toMatchObject({ classification: 'direct-grant', ok: true });
  });

  it('does not take an expiry for a revocation', async () => {
    const base = {
      ...prBase,
      'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\nend: 2026-11-01\n',
    };
    const { dir } = pullRequest({}, { base });
    git(dir, ['checkout', '-q', 'main']);
    git(dir, ['rm', '-q', 'grants/db/erin.yaml']);
    commit(dir, 'expire: erin', '2026-11-20T09:00:00Z');
    git(dir, ['checkout', '-q', '-b', 'again']);
    writeTree({ 'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\n' }, dir);
    commit(dir, 'erin again');
    const out = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'again',
      '--author',
      'bob-gh',
      '--format',
      'json',
      '--at',
      AT,
    ]);
    expect(json(out.stdout).files[0]).toMatchObject({ classification: 'direct-grant', ok: true });
  });
});

describe('a merge queue', () => {
  it('judges the merge the queue made, for its pull request, and sets the status on that merge', async () => {
    await onGithub(async (server, env) => {
      const { dir, head } = pullRequest({
        'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n',
      });
      const base = git(dir, ['rev-parse', 'main']).trim();
      // The queue's branch: the head merged onto main, as GitHub makes it.
      git(dir, ['checkout', '-q', '-b', 'gh-readonly-queue/main/pr-7-abc', 'main']);
      git(dir, ['merge', '-q', '--no-ff', '-m', 'Merge pull request #7', head], '2026-11-26T10:00:00Z');
      const queued = git(dir, ['rev-parse', 'HEAD']).trim();
      const event = join(dir, '..', `event-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(
        event,
        JSON.stringify({
          merge_group: {
            head_sha: queued,
            head_ref: `refs/heads/gh-readonly-queue/main/pr-7-${head}`,
            base_sha: base,
            base_ref: 'refs/heads/main',
          },
        }),
      );
      const reviews = [{ login: 'carol-gh', state: 'APPROVED', commit: head, at: '2026-11-26T09:00:00Z' }];
      server.pulls.set(7, { number: 7, author: 'dave-gh', head, base, reviews: [], commits: [] });
      const queue = (extra: NodeJS.ProcessEnv = {}) =>
        runCli(['check-pr', '--repo', dir, '--merge-group', '--format', 'json', '--at', AT], {
          env: { ...env, GITHUB_EVENT_PATH: event, ...extra },
        });
      expect((await queue()).code).toBe(1);
      expect(server.statuses.at(-1)).toMatchObject({ sha: queued, state: 'failure' });
      server.pulls.set(7, { number: 7, author: 'dave-gh', head, base, reviews, commits: [] });
      expect((await queue()).code).toBe(0);
      expect(server.statuses.at(-1)).toMatchObject({ sha: queued, state: 'success' });
      expect(server.statuses.at(-1)!.description).toContain('(merge queue, #7)');
      // No comment on a queue's run: the pull request's own check keeps it.
      expect(server.comments).toEqual([]);
    });
  });
});
