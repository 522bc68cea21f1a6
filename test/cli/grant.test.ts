import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ActionResult } from '../../src/cli/grant.js';
import { repositoryFromUrl } from '../../src/github/repository.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { onTerminal } from '../helpers/pty.js';
import { baseRepo, writeTree } from '../helpers/repo.js';

const server = new GithubPullServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

/** The base repository's people, and two who hold nothing yet. */
const people = `${baseRepo['grants/_people.yaml']}  - id: dave
    name: Dave Lee
    email: dave@example.com
    accounts: { github: dave-l }
  - id: erin
    name: Erin Park
    email: Erin.Park@example.com
    accounts: { github: erin-p }
`;

const ghApp = `name: GitHub
connector:
  type: github
  org: acme
entitlements:
  - id: engineering
    kind: group
    description: The engineering team
    team: engineering
  - id: admins
    kind: role
    description: Owners of acme
    orgRole: admin
licenses:
  - id: seat
    seats: 3
  - id: copilot
    seats: 1
    description: Copilot Business
    copilot: true
approvers: [carol]
`;

/** An access repository with a bare remote standing for GitHub's copy, its clone checked out on main. */
function repository(extra: Record<string, string> = {}): { dir: string; remote: string } {
  const root = mkdtempSync(join(tmpdir(), 'iden-grant-'));
  const dir = writeTree(
    {
      ...baseRepo,
      'grants/_people.yaml': people,
      'grants/gh/_app.yaml': ghApp,
      'grants/gh/bob.yaml':
        'user: bob\napp: gh\npermissions: [engineering]\nlicense: copilot\nstart: 2026-12-01\nend: 2027-03-01\n',
      ...extra,
    },
    join(root, 'work'),
  );
  commitAll(dir, 'the access repository');
  const remote = join(root, 'remote.git');
  git(root, ['init', '-q', '--bare', remote]);
  git(dir, ['remote', 'add', 'origin', remote]);
  git(dir, ['push', '-q', 'origin', 'main']);
  // The committer is whoever runs iden: git config, as at a terminal.
  git(dir, ['config', 'user.name', 'Bob Okafor']);
  git(dir, ['config', 'user.email', 'bob@example.com']);
  return { dir, remote };
}

/** The test server stands for GitHub with `remote` as its copy; the environment of `login`'s token. */
function onGitHub(remote: string, login: string): NodeJS.ProcessEnv {
  server.remote = remote;
  server.tokens.set(`${login}-token`, { login, kind: 'user' });
  return { GITHUB_TOKEN: `${login}-token`, GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
}

const json = (stdout: string) => JSON.parse(stdout) as ActionResult;
const show = (dir: string, ref: string, path: string) => git(dir, ['show', `${ref}:${path}`]);
const branches = (dir: string) => git(dir, ['branch', '--format=%(refname:short)']).trim().split('\n');

/** The work tree, the index and the checked-out branch are as they were. */
function untouched(dir: string, head: string): void {
  expect(git(dir, ['status', '--porcelain'])).toBe('');
  expect(git(dir, ['rev-parse', 'HEAD']).trim()).toBe(head);
  expect(git(dir, ['symbolic-ref', '--short', 'HEAD']).trim()).toBe('main');
}

describe('iden grant, scripted', () => {
  it('writes the file a person would, commits it on its own branch and leaves the work tree alone', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const out = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'gh',
        '--user',
        'Erin.Park@EXAMPLE.com',
        '--permission',
        'engineering',
        '--license',
        'seat',
        '--start',
        '2026-12-01',
        '--end',
        '2027-03-01',
        '--reason',
        'Onboarding, ENG-1234',
        '--no-pr',
        '--as',
        'bob-o',
        '--yes',
        '--format',
        'json',
      ],
      { env: {} },
    );
    expect(out.stderr).toContain('direct grant by bob-o (Users Read/Write): no approval needed');
    expect(out.code).toBe(0);
    const result = json(out.stdout);
    expect(result).toEqual({
      action: 'grant',
      files: ['grants/gh/erin.yaml'],
      branch: 'grant/gh/erin',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      classification: 'direct-grant',
      approvers: [],
      policy: false,
    });
    expect(show(dir, 'grant/gh/erin', 'grants/gh/erin.yaml')).toBe(
      `# yaml-language-server: $schema=../../schemas/grant.schema.json
user: erin
app: gh
permissions: [engineering]
license: seat
start: 2026-12-01
end: 2027-03-01
reason: Onboarding, ENG-1234
`,
    );
    // One commit on top of HEAD, by the configured user, with the subject people read.
    expect(git(dir, ['rev-parse', 'grant/gh/erin^']).trim()).toBe(head);
    expect(git(dir, ['rev-parse', 'grant/gh/erin']).trim()).toBe(result.commit);
    expect(git(dir, ['log', '-1', '--format=%an <%ae>|%s', 'grant/gh/erin']).trim()).toBe(
      'Bob Okafor <bob@example.com>|grant: erin → gh (engineering, seat) from 2026-12-01 until 2027-03-01',
    );
    expect(git(dir, ['diff', '--name-status', head, 'grant/gh/erin'])).toBe('A\tgrants/gh/erin.yaml\n');
    untouched(dir, head);
    expect(existsSync(join(dir, 'grants/gh/erin.yaml'))).toBe(false);

    // The branch is what check-pr then judges, and it judges the same.
    git(dir, ['checkout', '-q', 'grant/gh/erin']);
    const valid = await runCli(['validate', '--repo', dir, '--at', '2026-11-27T12:00:00Z']);
    expect(valid.stdout).toBe('valid: no problems found\n');
    const checked = await runCli([
      'check-pr',
      '--repo',
      dir,
      '--base',
      'main',
      '--head',
      'grant/gh/erin',
      '--author',
      'bob-o',
      '--format',
      'json',
    ]);
    expect(JSON.parse(checked.stdout).files[0].classification).toBe('direct-grant');
  });

  it('writes a reason YAML would misread as it was typed', async () => {
    const { dir } = repository();
    const reason = 'yes: #1 "quoted" - [not a list]\nsecond line: {x}';
    const out = await runCli(
      ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly'].concat([
        '--reason',
        reason,
        '--no-pr',
        '--yes',
      ]),
    );
    expect(out.code).toBe(0);
    expect(parse(show(dir, 'grant/db/dave', 'grants/db/dave.yaml'))).toEqual({
      user: 'dave',
      app: 'db',
      permissions: ['readonly'],
      reason,
    });
  });

  it('refuses, changing nothing, what it must not write', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const grant = (...args: string[]) => runCli(['grant', '--repo', dir, '--no-pr', ...args]);

    // Someone who already has access: their file and the change command.
    const holder = await grant('--app', 'gh', '--user', 'bob', '--license', 'seat', '--yes');
    expect(holder.code).toBe(1);
    expect(holder.stderr).toBe(
      'iden: bob has access to gh from 2026-12-01 (grants/gh/bob.yaml): change it with iden change --app gh --user bob\n',
    );

    // A full tier: the finding as iden validate prints it.
    const full = await grant(
      ...['--app', 'gh', '--user', 'dave', '--permission', 'engineering', '--license', 'copilot'],
      ...['--start', '2026-12-15', '--yes'],
    );
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(
      /^grants\/gh\/dave\.yaml:5:10 error seats-exceeded: license "copilot" of app "gh" has 1 seat, but from 2026-12-15 2 grants hold it: dave with bob; end another grant first or raise seats\n1 error, 0 warnings in 1 file\niden: grant: the change would not validate; nothing was written\n$/,
    );

    // Something the app does not have.
    const unknown = await grant('--app', 'db', '--user', 'dave', '--permission', 'root', '--yes');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^grants\/db\/dave\.yaml:4:\d+ error unknown-permission: "root" is not an entitlement of app "db" \(it declares readonly, writer\)\n/,
    );

    // An end before the start.
    const backwards = await grant(
      ...['--app', 'db', '--user', 'dave', '--permission', 'readonly'],
      ...['--start', '2027-01-01', '--end', '2026-12-01', '--yes'],
    );
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toContain('grants/db/dave.yaml:');

    // An end that has passed would give nothing.
    const ended = await grant(
      ...['--app', 'db', '--user', 'dave', '--permission', 'readonly', '--end', '2020-01-01', '--yes'],
    );
    expect(ended).toMatchObject({
      code: 2,
      stderr:
        'iden: --end 2020-01-01 has passed: access ending then gives nothing (iden revoke removes access now)\n',
    });

    // Missing answers without a terminal: exit 2, naming the flag.
    const noApp = await grant('--user', 'dave', '--yes');
    expect(noApp).toMatchObject({
      code: 2,
      stderr: 'iden: --app is required without a terminal (one of db, gh)\n',
    });
    const noTier = await grant('--app', 'gh', '--user', 'dave', '--yes');
    expect(noTier).toMatchObject({
      code: 2,
      stderr: 'iden: --license is required without a terminal (one of seat, copilot)\n',
    });
    const noPermission = await grant('--app', 'db', '--user', 'dave', '--yes');
    expect(noPermission).toMatchObject({
      code: 2,
      stderr: 'iden: --permission is required without a terminal (one of readonly, writer)\n',
    });
    const noYes = await grant('--app', 'db', '--user', 'dave', '--permission', 'readonly');
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('pass --yes to do it without a terminal');

    // Who and what that are not there, and names that are not names.
    expect((await grant('--app', 'gh', '--user', '../../etc/passwd', '--yes')).code).toBe(2);
    expect((await grant('--app', '../gh', '--user', 'dave', '--yes')).stderr).toBe(
      'iden: --app ../gh: no app of that id in grants/ (db, gh)\n',
    );
    const badBranch = await grant(
      ...['--app', 'db', '--user', 'dave', '--permission', 'readonly', '--yes'],
      ...['--branch', '--upload-pack=touch /tmp/x'],
    );
    expect(badBranch.code).toBe(2);
    const badStart = await grant(
      ...[
        '--app',
        'db',
        '--user',
        'dave',
        '--permission',
        'readonly',
        '--yes',
        '--start',
        '2026-12-01T09:00',
      ],
    );
    expect(badStart.code).toBe(2);
    expect(badStart.stderr).toContain('--start');

    expect(branches(dir)).toEqual(['main']);
    untouched(dir, head);
  });

  it('someone iden cannot tell on GitHub makes an access request, and is told how to say who they are', async () => {
    const { dir } = repository();
    git(dir, ['config', 'user.email', 'stranger@example.org']);
    const out = await runCli([
      ...['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly'],
      ...['--no-pr', '--yes', '--format', 'json'],
    ]);
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toMatchObject({
      classification: 'access-request',
      approvers: ['alice', 'carol'],
    });
    expect(out.stderr).toContain(
      'Not knowing your GitHub login (pass --as LOGIN, or set GITHUB_TOKEN), the policy check will say:\n  grants/db/dave.yaml: access request: needs an approval from alice or carol\n',
    );
  });

  it('refuses a dirty grants/ and a branch that exists, here or on the remote', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const args = [
      'grant',
      '--repo',
      dir,
      '--app',
      'db',
      '--user',
      'dave',
      '--permission',
      'readonly',
      '--yes',
    ];

    writeFileSync(join(dir, 'grants/db/erin.yaml'), 'user: erin\napp: db\npermissions: [readonly]\n');
    const dirty = await runCli([...args, '--no-pr']);
    expect(dirty).toMatchObject({
      code: 1,
      stderr:
        'iden: grants/ has uncommitted changes (grants/db/erin.yaml): commit or stash them first; nothing was changed\n',
    });
    git(dir, ['clean', '-qfd']);

    git(dir, ['branch', 'grant/db/dave']);
    const local = await runCli([...args, '--no-pr']);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('a branch named grant/db/dave exists already');
    git(dir, ['branch', '-D', 'grant/db/dave']);

    git(dir, ['push', '-q', 'origin', 'main:refs/heads/grant/db/dave']);
    const remote = await runCli(args);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toBe(
      'iden: origin already has a branch named grant/db/dave: pass --branch, or delete it there; nothing was changed\n',
    );
    expect(branches(dir)).toEqual(['main']);
    untouched(dir, head);

    // --branch picks another name.
    const renamed = await runCli([...args, '--branch', 'access/dave-db', '--format', 'json']);
    expect(renamed.code).toBe(0);
    expect(json(renamed.stdout).branch).toBe('access/dave-db');
  });
});

describe('iden grant opens the pull request', () => {
  it('as an access request: pushes the branch, opens it and asks its approvers to review', async () => {
    const { dir, remote } = repository();
    const env = onGitHub(remote, 'dave-l');
    git(dir, ['config', 'user.name', 'Dave Lee']);
    git(dir, ['config', 'user.email', 'dave@example.com']);
    const out = await runCli(
      [
        'grant',
        '--repo',
        dir,
        '--app',
        'gh',
        '--user',
        'dave',
        '--permission',
        'engineering',
        '--license',
        'seat',
        '--end',
        '2027-03-01',
        '--reason',
        'ENG-7',
        '--yes',
        '--format',
        'json',
      ],
      { env },
    );
    expect(out.code).toBe(0);
    const result = json(out.stdout);
    const pull = server.pulls.get(result.pr!.number)!;
    expect(result).toMatchObject({
      action: 'grant',
      classification: 'access-request',
      approvers: ['alice', 'carol'],
      pr: { number: pull.number, url: `https://github.com/acme/access/pull/${pull.number}` },
    });
    expect(git(remote, ['rev-parse', 'refs/heads/grant/gh/dave']).trim()).toBe(result.commit);
    expect(pull).toMatchObject({
      author: 'dave-l',
      head: result.commit,
      headRef: 'grant/gh/dave',
      baseRef: 'main',
      title: 'grant: dave → gh (engineering, seat) until 2027-03-01',
      requested: ['Carol-N'],
    });
    // What people typed is escaped: it renders as itself, and mentions no one.
    expect(pull.body).toContain(
      '**Grant Dave Lee \\(dave, dave@\u200bexample\\.com\\) access to GitHub \\(gh\\)**',
    );
    expect(pull.body).toContain('- reason: ENG\\-7');
    expect(pull.body).toContain(
      '- grants/gh/dave\\.yaml: access request: needs an approval from alice or carol',
    );
    expect(server.errors).toEqual([]);
  });

  it('as a direct grant by an admin: no reviewers; and says so when GitHub refuses reviewers', async () => {
    const { dir, remote } = repository();
    const env = onGitHub(remote, 'bob-o');
    const direct = await runCli(
      ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly', '--yes'],
      { env },
    );
    expect(direct.code).toBe(0);
    expect(direct.stdout).toContain('direct grant by bob-o (Users Read/Write): no approval needed');
    expect(direct.stdout).toMatch(
      /Opened pull request #(\d+): https:\/\/github\.com\/acme\/access\/pull\/\1\n$/,
    );

    // A change needs approval; GitHub takes reviewers only from collaborators.
    server.collaborators = new Set(['alice-m']);
    git(dir, ['push', '-q', 'origin', 'grant/db/dave:main']);
    git(dir, ['merge', '-q', '--ff-only', 'grant/db/dave']);
    const change = await runCli(
      ['change', '--repo', dir, '--app', 'db', '--user', 'dave', '--add-permission', 'writer', '--yes'],
      { env },
    );
    server.collaborators = undefined;
    expect(change.code).toBe(0);
    expect(change.stdout).toContain('Could not request reviews from Carol-N: requesting reviews on #');
    expect(change.stdout).toContain('Reviews may only be requested from collaborators');
    expect(server.errors).toEqual([]);
  });

  it('offboarding with --remove-person asks a Super Admin, and a refused pull request says the branch is pushed', async () => {
    const { dir, remote } = repository();
    const env = onGitHub(remote, 'bob-o');
    const out = await runCli(
      ['offboard', '--repo', dir, '--user', 'dave', '--remove-person', '--yes', '--format', 'json'],
      { env },
    );
    expect(out.code).toBe(0);
    const result = json(out.stdout);
    expect(result).toMatchObject({
      classification: 'revocation-request',
      policy: true,
      approvers: ['alice'],
    });
    expect(server.pulls.get(result.pr!.number)?.requested).toEqual(['alice-m']);

    // A branch GitHub does not have as the base: the pull request is refused after the push.
    git(dir, ['checkout', '-q', '-b', 'topic']);
    const refused = await runCli(
      ['grant', '--repo', dir, '--app', 'db', '--user', 'erin', '--permission', 'readonly', '--yes'],
      { env },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `iden: opening a pull request from grant/db/erin into topic: GitHub answered 422 to POST /repos/acme/access/pulls: Validation Failed: base invalid (topic) - https://docs.github.com/rest; grant/db/erin is pushed to origin: open the pull request by hand (${server.url}/acme/access/compare/topic...grant%2Fdb%2Ferin?expand=1)\n`,
    );
    expect(git(remote, ['branch', '--format=%(refname:short)'])).toContain('grant/db/erin');
    expect(server.errors).toEqual([]);
  });

  it('without a token: pushes the branch and says where to open the pull request', async () => {
    const { dir, remote } = repository();
    git(dir, ['remote', 'set-url', '--push', 'origin', remote]);
    git(dir, ['config', 'remote.origin.url', 'git@github.com:acme/access.git']);
    git(dir, ['config', 'remote.origin.pushurl', remote]);
    const out = await runCli(
      ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly', '--yes'],
      { env: {} },
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      'No GITHUB_TOKEN: open the pull request by hand: https://github.com/acme/access/compare/main...grant%2Fdb%2Fdave?expand=1\n',
    );
    expect(git(remote, ['branch', '--format=%(refname:short)'])).toContain('grant/db/dave');
  });
});

describe('iden grant under attack', () => {
  it('two runs at once make the branch once; the other changes nothing', async () => {
    const { dir } = repository();
    const args = ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly'];
    const runs = await Promise.all([
      runCli([...args, '--no-pr', '--yes', '--format', 'json']),
      runCli([...args, '--no-pr', '--yes', '--format', 'json']),
    ]);
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    const lost = runs.find((r) => r.code === 1)!;
    expect(lost.stderr).toMatch(/grant\/db\/dave/);
    const won = json(runs.find((r) => r.code === 0)!.stdout);
    expect(git(dir, ['rev-parse', 'grant/db/dave']).trim()).toBe(won.commit);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('a push the remote refuses: exit 1, the branch is kept here and the message says how to push it', async () => {
    const { dir, remote } = repository();
    writeFileSync(
      join(remote, 'hooks', 'pre-receive'),
      '#!/bin/sh\necho "protected by policy" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    const out = await runCli(
      ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly', '--yes'],
      { env: {} },
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(
      /^iden: could not push grant\/db\/dave to origin: .*; the branch is made here: push it \(git push origin grant\/db\/dave\) and open the pull request\n$/,
    );
    expect(branches(dir)).toContain('grant/db/dave');
    expect(git(remote, ['branch', '--format=%(refname:short)'])).toBe('main\n');
  });

  it('GitHub unreachable before anything is written: exit 1, no branch here or there', async () => {
    const { dir, remote } = repository();
    server.remote = remote;
    server.down = 503;
    try {
      const out = await runCli(
        ['grant', '--repo', dir, '--app', 'db', '--user', 'dave', '--permission', 'readonly', '--yes'],
        { env: { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url } },
      );
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('GitHub answered 503 to GET /user');
    } finally {
      server.down = undefined;
    }
    expect(branches(dir)).toEqual(['main']);
    expect(git(remote, ['branch', '--format=%(refname:short)'])).toBe('main\n');
  });
});

describe('iden change, revoke and offboard', () => {
  it('change edits the file in place, keeping its comments, and is a change needing approval', async () => {
    const { dir } = repository({
      'grants/db/dave.yaml':
        '# yaml-language-server: $schema=../../schemas/grant.schema.json\nuser: dave\napp: db\n# owned by the data team\npermissions: [readonly]\nend: 2027-01-01 # the contract\nreason: ENG-1\n',
    });
    const out = await runCli([
      ...['change', '--repo', dir, '--app', 'db', '--user', 'dave@example.com'],
      ...['--add-permission', 'writer', '--no-end', '--start', '2026-12-01', '--reason', 'ENG-2'],
      ...['--no-pr', '--as', 'bob-o', '--yes', '--format', 'json'],
    ]);
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toMatchObject({
      action: 'change',
      files: ['grants/db/dave.yaml'],
      branch: 'change/db/dave',
      classification: 'change',
      approvers: ['alice', 'carol'],
    });
    expect(show(dir, 'change/db/dave', 'grants/db/dave.yaml')).toBe(
      '# yaml-language-server: $schema=../../schemas/grant.schema.json\nuser: dave\napp: db\n# owned by the data team\npermissions: [readonly, writer]\nstart: 2026-12-01\nreason: ENG-2\n',
    );
    expect(git(dir, ['log', '-1', '--format=%s', 'change/db/dave']).trim()).toBe(
      'change: dave → db (+writer, from 2026-12-01, no end, reason)',
    );

    const none = await runCli(['change', '--repo', dir, '--app', 'db', '--user', 'dave', '--no-pr', '--yes']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('nothing to change');
    const notHeld = await runCli([
      ...['change', '--repo', dir, '--app', 'db', '--user', 'erin', '--add-permission', 'writer'],
      ...['--no-pr', '--yes'],
    ]);
    expect(notHeld.stderr).toBe(
      'iden: erin has no grant for db (grants/db/erin.yaml does not exist): give access with iden grant --app db --user erin\n',
    );
    const notThere = await runCli([
      ...['change', '--repo', dir, '--app', 'db', '--user', 'dave', '--remove-permission', 'writer'],
      ...['--no-pr', '--yes', '--branch', 'x'],
    ]);
    expect(notThere.code).toBe(2);
    const required = await runCli(['change', '--repo', dir, '--user', 'dave']);
    expect(required.code).toBe(2);
    // Without a terminal a missing --app is named with the apps dave holds (on one, iden asks).
    expect(required.stderr).toBe('iden: --app is required without a terminal (one of db)\n');
  });

  it('revoke deletes the file: a revocation by an admin, a request from anyone else', async () => {
    const { dir } = repository();
    const admin = await runCli([
      ...['revoke', '--repo', dir, '--app', 'db', '--user', 'alice', '--reason', 'left the team'],
      ...['--no-pr', '--as', 'bob-o', '--yes', '--format', 'json'],
    ]);
    expect(admin.code).toBe(0);
    expect(json(admin.stdout)).toMatchObject({ classification: 'revocation', approvers: [] });
    expect(git(dir, ['diff', '--name-status', 'main', 'revoke/db/alice'])).toBe('D\tgrants/db/alice.yaml\n');
    expect(git(dir, ['log', '-1', '--format=%s', 'revoke/db/alice']).trim()).toBe('revoke: alice from db');

    const other = await runCli([
      ...['revoke', '--repo', dir, '--app', 'gh', '--user', 'bob', '--branch', 'r2'],
      ...['--no-pr', '--as', 'dave-l', '--yes', '--format', 'json'],
    ]);
    expect(json(other.stdout)).toMatchObject({
      classification: 'revocation-request',
      approvers: ['alice', 'carol'],
    });
    const none = await runCli(['revoke', '--repo', dir, '--app', 'gh', '--user', 'dave', '--no-pr', '--yes']);
    expect(none).toMatchObject({
      code: 1,
      stderr: 'iden: dave has no grant for gh: grants/gh/dave.yaml does not exist; nothing to revoke\n',
    });
  });

  it('offboard removes every grant in one commit, and with --remove-person the person everywhere', async () => {
    const { dir } = repository({
      'grants/gh/carol.yaml': 'user: carol\napp: gh\npermissions: [engineering]\nlicense: seat\n',
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
    });
    const out = await runCli([
      ...['offboard', '--repo', dir, '--user', 'carol', '--remove-person', '--reason', 'left acme'],
      ...['--no-pr', '--as', 'bob-o', '--yes', '--format', 'json'],
    ]);
    expect(out.code).toBe(0);
    const result = json(out.stdout);
    expect(result).toMatchObject({
      action: 'offboard',
      branch: 'offboard/carol',
      classification: 'revocation-request',
      policy: true,
      approvers: ['alice'],
    });
    expect(result.files.sort()).toEqual([
      'grants/_people.yaml',
      'grants/db/_app.yaml',
      'grants/db/carol.yaml',
      'grants/gh/_app.yaml',
      'grants/gh/carol.yaml',
    ]);
    expect(git(dir, ['rev-list', '--count', 'main..offboard/carol']).trim()).toBe('1');
    expect(show(dir, 'offboard/carol', 'grants/_people.yaml')).not.toContain('carol');
    expect(show(dir, 'offboard/carol', 'grants/gh/_app.yaml')).toContain('approvers: []');
    expect(out.stderr).toContain('grants/_people.yaml: a policy change: needs an approval from alice');
    git(dir, ['checkout', '-q', 'offboard/carol']);
    const valid = await runCli(['validate', '--repo', dir, '--at', '2026-11-27T12:00:00Z']);
    expect(valid.code).toBe(0);

    git(dir, ['checkout', '-q', 'main']);
    const grantsOnly = await runCli([
      ...['offboard', '--repo', dir, '--user', 'carol', '--branch', 'o2'],
      ...['--no-pr', '--as', 'bob-o', '--yes', '--format', 'json'],
    ]);
    expect(json(grantsOnly.stdout)).toMatchObject({
      classification: 'revocation',
      policy: false,
      approvers: [],
    });
  });
});

describe('iden grant on a terminal', () => {
  // The built CLI, its clock at TEST_NOW: the fixtures' dates stay in the future whatever the calendar says.
  const iden = `IDEN_TEST_NOW=${new Date(TEST_NOW).toISOString()} ${process.execPath} ${join(packageRoot(), 'test/helpers/bin-at.mjs')}`;
  const DOWN = '\x1b[B';

  it('from the app: searches people, leaves out who has access, shows a full tier, and takes a custom schedule', async () => {
    const { dir } = repository();
    const session = await onTerminal(
      `${iden} grant --app gh --no-pr --as bob-o`,
      [
        { see: /search by name, email or id\)/, type: 'bo' },
        { see: /id\) bo\r\n[\s\S]*No results/, type: '\x7f\x7fDA' },
        { see: /id\) DA\r\n❯ Dave Lee <dave@example\.com>/, type: '\r' },
        { see: /Which groups, roles or permissions\?[\s\S]*admins: Owners of acme/, type: ' \r' },
        { see: /When\?[\s\S]*Custom/, type: `${DOWN}\r` },
        {
          see: /Start, Europe\/Berlin \(a date like [\d-]+, or a date-time with an offset\)/,
          type: '2027-01-10\r',
        },
        { see: /End, Europe\/Berlin/, type: '30d\r' },
        { see: /Which license tier\?[\s\S]*submit|Which license tier\?[\s\S]*select/, type: '\r' },
        { see: /Reason/, type: 'Cover for bob\r' },
        { see: /Commit it on the branch\?/, type: 'y\r' },
      ],
      { cwd: dir },
    );
    expect(session.reached).toBe(10);
    expect(session.code, session.screen).toBe(0);
    expect(session.screen).toContain(
      '1 person already has access to gh and is not offered; iden change --app gh --user <id> edits their access.',
    );
    expect(session.screen).not.toMatch(/❯ Bob Okafor/);
    expect(session.screen).toContain('seat  0 of 3 seats used, 3 free');
    expect(session.screen).toContain('copilot  1 of 1 seats used (full: a seat frees up 2027-03-01)');
    expect(session.screen).toContain('direct grant by bob-o (Users Read/Write): no approval needed');
    expect(show(dir, 'grant/gh/dave', 'grants/gh/dave.yaml')).toBe(
      `# yaml-language-server: $schema=../../schemas/grant.schema.json
user: dave
app: gh
permissions: [engineering]
license: seat
start: 2027-01-10
end: 2027-02-09
reason: Cover for bob
`,
    );
  }, 30_000);

  it('from the person: picks the app (not one they have), right now, and a no at the end changes nothing', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const steps = (confirm: string) => [
      {
        see: /Which app should bob get access to\?[\s\S]*already has access: iden change --app gh --user bob/,
        type: '\r',
      },
      { see: /Which groups, roles or permissions\?[\s\S]*writer/, type: `${DOWN} \r` },
      { see: /When\?[\s\S]*Right now/, type: '\r' },
      { see: /End, Europe\/Berlin/, type: '\r' },
      { see: /Reason/, type: '\r' },
      { see: /Commit it on the branch\?/, type: confirm },
    ];
    const no = await onTerminal(`${iden} grant --user bob --no-pr --as alice-m`, steps('n\r'), {
      cwd: dir,
    });
    expect(no.reached).toBe(6);
    expect(no.code, no.screen).toBe(1);
    expect(no.screen).toContain('Nothing was changed.');
    expect(branches(dir)).toEqual(['main']);
    untouched(dir, head);

    // bob is a Users Read/Write admin, but nobody grants themselves access: a request.
    const yes = await onTerminal(`${iden} grant --user bob --no-pr --as bob-o`, steps('\r'), {
      cwd: dir,
    });
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toContain('access request: needs an approval from alice or carol');
    expect(show(dir, 'grant/db/bob', 'grants/db/bob.yaml')).toBe(
      '# yaml-language-server: $schema=../../schemas/grant.schema.json\nuser: bob\napp: db\npermissions: [writer]\n',
    );
  }, 30_000);

  it('Ctrl-C at a question changes nothing', async () => {
    const { dir } = repository();
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const session = await onTerminal(
      `${iden} grant --app gh --no-pr`,
      [{ see: /search by name, email or id\)/, type: '\x03' }],
      { cwd: dir },
    );
    expect(session.code, session.screen).toBe(1);
    expect(session.screen).toContain('iden: cancelled; nothing was changed');
    expect(branches(dir)).toEqual(['main']);
    untouched(dir, head);
  }, 30_000);

  it('change on a terminal: permissions pre-checked, the end offered as it is', async () => {
    const { dir } = repository();
    const session = await onTerminal(
      `${iden} change --app gh --user bob --no-pr --as bob-o`,
      [
        { see: /Which groups, roles or permissions\?[\s\S]*◉ engineering/, type: `${DOWN} \r` },
        { see: /Which license tier\?[\s\S]*copilot[^\r]*\(current\)/, type: '\r' },
        { see: /End, Europe\/Berlin[\s\S]*2027-03-01/, type: '\r' },
        { see: /Reason/, type: 'more rights\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(session.reached).toBe(5);
    expect(session.code, session.screen).toBe(0);
    expect(show(dir, 'change/gh/bob', 'grants/gh/bob.yaml')).toBe(
      'user: bob\napp: gh\npermissions: [engineering, admins]\nlicense: copilot\nstart: 2026-12-01\nend: 2027-03-01\nreason: more rights\n',
    );
    expect(readFileSync(join(dir, 'grants/gh/bob.yaml'), 'utf8')).not.toContain('admins');
  }, 30_000);

  it('revoke and offboard ask for what their flags leave out, offering only access that exists', async () => {
    const { dir } = repository();
    const revoke = await onTerminal(
      `${iden} revoke --app gh --no-pr --as bob-o`,
      [
        { see: /Whose access to GitHub \(gh\)\? \(search by name, email or id\)/, type: 'bo' },
        { see: /❯ Bob Okafor <bob@example\.com>/, type: '\r' },
        { see: /Reason/, type: 'left the team\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(revoke.reached).toBe(4);
    expect(revoke.code, revoke.screen).toBe(0);
    expect(git(dir, ['show', '--stat', '--format=%s', 'revoke/gh/bob'])).toContain('revoke: bob from gh');
    const offboard = await onTerminal(
      `${iden} offboard --no-pr --as bob-o --branch off`,
      [
        { see: /Whom to offboard\?/, type: 'alice' },
        { see: /❯ Alice/, type: '\r' },
        { see: /Reason/, type: '\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(offboard.reached).toBe(4);
    expect(offboard.code, offboard.screen).toBe(0);
    expect(git(dir, ['show', '--format=%s', '--name-only', 'off'])).toContain('grants/db/alice.yaml');
  }, 60_000);
});

describe('the GitHub repository of a remote', () => {
  it.each([
    ['https://github.com/acme/access.git', 'acme/access'],
    ['https://x-access-token:t@github.com/acme/access', 'acme/access'],
    ['git@github.com:acme/access.git', 'acme/access'],
    ['ssh://git@github.example.com:2222/acme/access.git', 'acme/access'],
    ['https://ghe.example.com/acme/access/', 'acme/access'],
    ['/srv/git/access.git', undefined],
    ['../remote.git', undefined],
  ])('%s is %s', (url, repository) => {
    expect(repositoryFromUrl(url)).toBe(repository);
  });
});
