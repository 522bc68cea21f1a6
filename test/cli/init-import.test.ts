import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/cli/import.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { idenVersion, packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { GithubOrgServer } from '../helpers/github-org-server.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { initRepo } from '../helpers/init.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';
import { addGroup, startScimServer } from '../helpers/scim-server.js';

const NOW = '2026-11-27T12:00:00Z';
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const newDir = () => join(mkdtempSync(join(tmpdir(), 'iden-init-')), 'access');

describe('iden init', () => {
  it('makes an access repository that validates with no finding, commits it, and refuses a folder that is not empty', async () => {
    const dir = newDir();
    const made = await initRepo(dir, {
      yes: true,
      timezone: 'Europe/Berlin',
      superAdmin: 'alice',
      name: 'Alice Martin',
      email: 'alice@example.com',
      github: 'alice-m',
    });
    expect(made.code).toBe(0);
    for (const path of [
      'grants/_settings.yaml',
      'grants/_people.yaml',
      'schemas/grant.schema.json',
      '.github/workflows/iden-apply.yml',
      '.github/workflows/iden-pull-request.yml',
      'README.md',
      `vendor/iden-${idenVersion()}.tgz`,
    ])
      expect(existsSync(join(dir, path)), path).toBe(true);
    // iden itself is committed under the repository, so every clone's npm ci resolves it there.
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toEqual({
      iden: `file:vendor/iden-${idenVersion()}.tgz`,
    });
    expect(git(dir, ['ls-files', 'vendor'])).toBe(`vendor/iden-${idenVersion()}.tgz\n`);
    expect(made.stdout).toContain('Then run npm install and commit package-lock.json');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('.iden/');
    const [verify, first] = git(dir, ['log', '--format=%H %s']).trim().split('\n');
    expect(first).toMatch(/^[0-9a-f]{40} An access repository, made by iden init$/);
    expect(verify).toMatch(/^[0-9a-f]{40} Verify what lands after [0-9a-f]{12}$/);
    // Apply-time verification takes init's own commit as it is, and verifies everything after it.
    expect(readFileSync(join(dir, 'grants/_settings.yaml'), 'utf8')).toContain(
      `policy:\n  # Apply grants only what came through an approved pull request after this commit.\n  verifyFrom: ${first!.slice(0, 40)}\n`,
    );
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    const valid = await runCli(['validate', '--repo', dir, '--format', 'json']);
    expect(JSON.parse(valid.stdout)).toEqual({ ok: true, diagnostics: [] });

    const again = await initRepo(dir, { yes: true, github: 'alice-m' });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'is not empty (.github, .gitignore, README.md, grants, package.json, schemas, vendor)',
    );
    expect(git(dir, ['log', '--format=%s']).trim().split('\n')).toHaveLength(2);
  });

  it('refuses to make a repository inside another one unless --force', async () => {
    const outer = mkdtempSync(join(tmpdir(), 'iden-outer-'));
    commitAll(outer, 'another project');
    const inside = join(outer, 'tools', 'access');
    const refused = await initRepo(inside, { yes: true, email: 'a@example.com', name: 'A', github: 'a-gh' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `iden: ${inside} is inside the git repository ${outer}; an access repository is a repository of its own, so nothing was changed (--force makes it there all the same)\n`,
    );
    expect(existsSync(inside)).toBe(false);
    expect(git(outer, ['status', '--porcelain'])).toBe('');
    const forced = await initRepo(inside, {
      yes: true,
      email: 'a@example.com',
      name: 'A',
      github: 'a-gh',
      force: true,
    });
    expect(forced.code).toBe(0);
    expect(git(inside, ['rev-parse', '--show-toplevel']).trim()).toBe(inside);
  });

  it('without a GitHub login asks for one, since no approval counts without it (no approver-without-login)', async () => {
    const dir = newDir();
    const result = await initRepo(dir, { yes: true, email: 'a@example.com', name: 'A' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'iden: Your GitHub login (pull requests know you by it): give it as a flag (see iden init --help)\n',
    );
    expect(existsSync(dir)).toBe(false);
  });

  it("writes workflows on the repository's own default branch, with no app's secrets", async () => {
    const dir = newDir();
    const made = await initRepo(dir, {
      yes: true,
      email: 'a@example.com',
      name: 'A',
      github: 'a-gh',
      defaultBranch: 'trunk',
    });
    expect(made.code).toBe(0);
    expect(git(dir, ['symbolic-ref', '--short', 'HEAD']).trim()).toBe('trunk');
    const workflows = join(dir, '.github/workflows');
    for (const name of readdirSync(workflows)) {
      const text = readFileSync(join(workflows, name), 'utf8');
      expect(text, name).not.toMatch(/ACME_GITHUB_TOKEN|SALESFORCE_SCIM_TOKEN|\bmain\b/);
      for (const m of text.matchAll(/secrets\.(\w+)/g)) expect(m[1], name).toMatch(/^IDEN_/);
    }
    const apply = readFileSync(join(workflows, 'iden-apply.yml'), 'utf8');
    expect(apply).toContain('    branches: [trunk]\n');
    expect(apply).toContain('restrict it to trunk in');
    expect(readFileSync(join(workflows, 'iden-report.yml'), 'utf8')).toContain('    branches: [trunk]\n');
  });

  it("pins the Super Admin's GitHub login to GitHub's id of it, when a token can read it", async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      server.ids.set('ops-gh', 31337);
      const dir = newDir();
      const args = { yes: true, superAdmin: 'ops', name: 'Ops', email: 'ops@example.com' };
      const env = { GITHUB_TOKEN: 't', GITHUB_API_URL: server.url };
      expect((await initRepo(dir, { ...args, github: 'ops-gh' }, env)).code).toBe(0);
      expect(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')).toContain(
        '    accounts: { github: ops-gh }\n    githubId: 31337\n',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('then takes an app and reconciles it, as npm start does on the example', async () => {
    const dir = newDir();
    const args = { yes: true, superAdmin: 'ops', name: 'Ops', email: 'ops@example.com', github: 'ops-gh' };
    expect((await initRepo(dir, args)).code).toBe(0);
    writeTree(
      {
        'grants/db/_app.yaml':
          'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\napprovers: [ops]\n',
        'grants/db/ops.yaml': 'user: ops\napp: db\npermissions: [readonly]\n',
      },
      dir,
    );
    commitAll(dir, 'the database');
    // Pushed straight to the branch after init's first commit, and no GitHub to ask: held, and said why.
    const held = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push']);
    expect(held.stdout).toContain(
      'held: ops in db is left as it is: not granted: grants/db/_app.yaml came in through',
    );
    expect(held.code).toBe(1);
    // A repository with no GitHub says so in its settings, as the example does.
    writeTree(
      {
        'grants/_settings.yaml': `${readFileSync(join(dir, 'grants/_settings.yaml'), 'utf8')}  verifyMerges: false\n`,
      },
      dir,
    );
    commitAll(dir, 'no GitHub here');
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push']);
    expect(run.stderr).toContain('notice: apply-time verification is off');
    expect(run.stdout).toContain('Applied: 1 granted');
    expect(run.code).toBe(0);
  });

  it('asks on a real terminal for what the flags did not give, and says what to do when npm install fails', async () => {
    const dir = newDir();
    const bin = join(packageRoot(), 'dist/src/cli/bin.js');
    // An empty package cache and no network: npm install fails at once.
    const cache = mkdtempSync(join(tmpdir(), 'iden-empty-cache-'));
    // script(1) runs iden on a pseudo-terminal; each answer is typed when its question shows.
    const child = spawn('script', ['-qfec', `${process.execPath} ${bin} init ${dir}`, '/dev/null'], {
      env: {
        ...process.env,
        // No git identity at all, as on a new laptop (simple-git drops GIT_CONFIG_GLOBAL: a home of its own).
        HOME: mkdtempSync(join(tmpdir(), 'iden-home-')),
        XDG_CONFIG_HOME: '',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        npm_config_offline: 'true',
        npm_config_cache: cache,
        https_proxy: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
      },
    });
    // The same prompts as grant's (inquirer): a default in parentheses, an answer refused in place, said why.
    const answers: [RegExp, string][] = [
      [/Time zone for bare dates \(IANA\) \([^)]+\)/, 'Mars/Olympus\r'],
      // Ctrl-U clears the refused answer, as in any readline.
      [/is not an IANA time zone/, '\x15Asia/Tokyo\r'],
      [/Your name \(the first Super Admin\)/, 'Kenji Sato\r'],
      [/Your email/, 'kenji@example.com\r'],
      [/Your person id \(the file name of your grants\) \(kenji\)/, '\r'],
      [/Your GitHub login \(pull requests know you by it\)/, 'ksato\r'],
    ];
    let screen = '';
    let next = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      // What a person would see: the terminal's control sequences taken out.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
      screen += chunk.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      while (next < answers.length && answers[next]![0].test(screen)) {
        child.stdin.write(answers[next]![1]);
        screen = '';
        next++;
      }
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      // The words, without the colours a terminal gets.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
      output += chunk.toString('utf8').replace(/\x1b\[[0-9;]*m/g, '');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(next).toBe(answers.length);
    expect(output).toContain('iden: npm install failed, so package-lock.json is missing');
    expect(output).toContain(`Run npm install in ${dir} and commit package-lock.json.`);
    expect(code).toBe(1);
    // Without a git identity, the commits name an address no GitHub account can hold.
    expect(git(dir, ['log', '--format=%an <%ae> %cn <%ce>']).trim().split('\n')).toEqual([
      'iden <iden@iden.invalid> iden <iden@iden.invalid>',
      'iden <iden@iden.invalid> iden <iden@iden.invalid>',
    ]);
    expect(readFileSync(join(dir, 'grants/_settings.yaml'), 'utf8')).toContain('timezone: Asia/Tokyo');
    expect(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')).toContain(
      '  - id: kenji\n    name: Kenji Sato\n    email: kenji@example.com\n    accounts: { github: ksato }\n',
    );
  }, 60_000);
});

/** The example repository, committed, its embedded database holding what the grants gave on NOW. */
async function appliedExample(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'iden-import-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'example');
  seedEmbedded(dir, 'analytics');
  expect((await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'])).code).toBe(0);
  return dir;
}

async function importJson(dir: string, ...extra: string[]): Promise<{ code: number; result: ImportResult }> {
  const out = await runCli(['import', '--repo', dir, '--at', NOW, '--format', 'json', ...extra], {
    retry: FAST,
  });
  return {
    code: out.code,
    result: out.stdout ? (JSON.parse(out.stdout) as ImportResult) : (undefined as never),
  };
}

describe('iden import', () => {
  it('describes what an embedded PostgreSQL holds: matched, unmatched, conflicting, and roles iden does not own', async () => {
    const dir = await appliedExample();
    // alice's and bob's files go (their access stays, as if made before iden); carol's file says less than she holds.
    git(dir, ['rm', '-q', 'grants/analytics/alice.yaml', 'grants/analytics/bob.yaml']);
    commitAll(dir, 'forget alice and bob');
    const db = await PGlite.create(join(dir, '.iden', 'pglite', 'analytics'));
    await db.exec(`GRANT analytics_write TO carol;
      CREATE ROLE svc_etl LOGIN; COMMENT ON ROLE svc_etl IS 'managed by iden'; GRANT analytics_read TO svc_etl;
      CREATE ROLE reporting LOGIN; GRANT analytics_read TO reporting;`);
    await db.close();

    const dry = await runCli(['import', '--repo', dir, '--app', 'analytics', '--at', NOW, '--dry-run']);
    expect(dry.stdout).toContain('would write grants/analytics/alice.yaml');
    expect(existsSync(join(dir, 'grants/analytics/alice.yaml'))).toBe(false);

    const { code, result } = await importJson(dir, '--app', 'analytics');
    expect(code).toBe(0);
    expect(result).toEqual({
      app: 'analytics',
      written: ['grants/analytics/alice.yaml', 'grants/analytics/bob.yaml'],
      conflicts: [
        {
          file: 'grants/analytics/carol.yaml',
          reason:
            'the file exists and says [readonly]; analytics holds [readonly, writer]; it was left as it is',
        },
      ],
      // Accounts that are no one's, whoever made them.
      unmatched: ['reporting', 'svc_etl'],
      peopleAdded: [],
      unowned: [],
      adopt: [],
    });
    expect(readFileSync(join(dir, 'grants/analytics/alice.yaml'), 'utf8')).toBe(
      'user: alice\napp: analytics\npermissions: [readonly, writer]\nreason: "imported from analytics on 2026-11-27"\n',
    );
    // Never overwritten: a second import writes nothing.
    expect((await importJson(dir, '--app', 'analytics')).result.written).toEqual([]);

    const added = await importJson(dir, '--app', 'analytics', '--add-people', '--reason', 'ETL service');
    expect(added.result.peopleAdded).toEqual(['reporting', 'svc_etl']);
    expect(added.result.written).toEqual([
      'grants/analytics/reporting.yaml',
      'grants/analytics/svc_etl.yaml',
    ]);
    // reporting was made by hand: imported, but not iden's until an --adopt is reviewed and merged.
    expect(added.result.unowned).toEqual(['reporting']);
    expect(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')).toContain(
      '  - id: svc_etl\n    name: svc_etl\n    email: svc_etl@unknown.invalid\n',
    );
    expect((await runCli(['validate', '--repo', dir, '--at', NOW])).code).toBe(0);

    // Committed, the imported people need no change.
    commitAll(dir, 'imported');
    const plan = JSON.parse(
      (await runCli(['plan', '--repo', dir, '--app', 'analytics', '--at', NOW, '--format', 'json'])).stdout,
    ) as Plan;
    expect(plan.changes.filter((c) => ['alice', 'bob', 'svc_etl'].includes(c.user))).toEqual([]);
  });

  it('describes teams, organisation roles and Copilot seats of a GitHub organisation', async () => {
    const server = new GithubOrgServer('acme');
    for (const u of ['owner', 'alice-m', 'carol-n', 'stranger']) server.users.add(u);
    server.members.set('owner', 'admin');
    server.members.set('alice-m', 'member');
    server.members.set('carol-n', 'member');
    server.members.set('stranger', 'member');
    server.teams.set(
      'engineering',
      new Map([
        ['alice-m', 'member'],
        ['carol-n', 'member'],
      ]),
    );
    server.copilot.add('alice-m');
    await server.start();
    try {
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `people:
  - { id: alice, name: Alice, email: alice@example.com, accounts: { github: Alice-M } }
  - { id: carol, name: Carol, email: carol@example.com, accounts: { github: carol-n } }
  - { id: owner, name: Owner, email: owner@example.com, accounts: { github: owner } }
`,
        'grants/gh/_app.yaml': `name: GitHub
connector: { type: github, org: acme, writeIntervalMs: 0 }
entitlements:
  - { id: eng, kind: group, team: engineering }
  - { id: owners, kind: role, orgRole: admin }
licenses:
  - { id: basic, seats: 10 }
  - { id: copilot, seats: 5, copilot: true }
`,
      });
      commitAll(dir, 'github');
      const env = { GITHUB_TOKEN: 't', GITHUB_API_URL: server.url };
      const out = await runCli(['import', '--repo', dir, '--app', 'gh', '--at', NOW, '--format', 'json'], {
        env,
        retry: FAST,
      });
      const result = JSON.parse(out.stdout) as ImportResult;
      expect(result.written).toEqual([
        'grants/gh/alice.yaml',
        'grants/gh/carol.yaml',
        'grants/gh/owner.yaml',
      ]);
      expect(result.conflicts).toEqual([]);
      // A Copilot seat is the tier that includes the organisation seat.
      expect(readFileSync(join(dir, 'grants/gh/alice.yaml'), 'utf8')).toContain(
        'permissions: [eng]\nlicense: copilot\n',
      );
      expect(result.unmatched).toEqual(['stranger']);
      expect(readFileSync(join(dir, 'grants/gh/owner.yaml'), 'utf8')).toContain(
        'permissions: [owners]\nlicense: basic\n',
      );
      commitAll(dir, 'imported');
      const plan = JSON.parse(
        (await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], { env, retry: FAST })).stdout,
      ) as Plan;
      expect(plan.changes.filter((c) => ['alice', 'carol', 'owner'].includes(c.user))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('iden import of a SCIM app', () => {
  let server: Awaited<ReturnType<typeof startScimServer>>;
  beforeAll(async () => {
    server = await startScimServer();
  });
  afterAll(() => server.stop());

  it('writes back what iden provisioned, and Users it did not, whose access iden then manages', async () => {
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': `people:
  - { id: heidi, name: Heidi Larsen, email: heidi@example.com }
  - { id: grace, name: Grace Kim, email: grace@example.com }
`,
      'grants/sf/_app.yaml': `name: Salesforce
connector: { type: scim, baseUrl: ${server.url}, tokenEnv: SF_TOKEN }
entitlements:
  - { id: sales-rep, kind: role, role: Sales Rep }
  - { id: sales-team, kind: group, group: Sales }
`,
      'grants/sf/heidi.yaml': 'user: heidi\napp: sf\npermissions: [sales-rep, sales-team]\n',
    });
    commitAll(dir, 'salesforce');
    addGroup('Sales');
    const env = { SF_TOKEN: 'scim-token' };
    expect(
      (await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], { env, retry: FAST })).code,
    ).toBe(0);
    git(dir, ['rm', '-q', 'grants/sf/heidi.yaml']);
    commitAll(dir, 'forget heidi');
    // grace's User was made in the app by hand, before iden: no externalId marks it as iden's.
    const made = await fetch(`${server.url}/Users`, {
      method: 'POST',
      headers: { authorization: 'Bearer scim-token', 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'grace@example.com',
        roles: [{ value: 'Sales Rep' }],
      }),
    });
    expect(made.status).toBe(201);
    const out = await runCli(['import', '--repo', dir, '--app', 'sf', '--at', NOW, '--format', 'json'], {
      env,
      retry: FAST,
    });
    const result = JSON.parse(out.stdout) as ImportResult;
    expect(result.written).toEqual(['grants/sf/grace.yaml', 'grants/sf/heidi.yaml']);
    expect(readFileSync(join(dir, 'grants/sf/heidi.yaml'), 'utf8')).toContain(
      'permissions: [sales-rep, sales-team]\n',
    );
    commitAll(dir, 'imported');
    const plan = JSON.parse(
      (await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json'], { env, retry: FAST })).stdout,
    ) as Plan;
    // grace's User is her account: iden manages its access from now on, though not the User itself
    // (it is not in adopt:), so the import describes exactly what is held and nothing is planned.
    expect(result.unowned).toEqual(['grace@example.com']);
    expect(plan.changes).toEqual([]);
  });
});
