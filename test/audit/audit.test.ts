import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { appendRecord } from '../../src/git/notes.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { checkResponse } from '../helpers/github-spec.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';

function commit(dir: string, message: string, date: string, author = 'Alice Martin') {
  git(dir, ['add', '-A']);
  execFileSync('git', ['commit', '-q', '-m', message], {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: `${author.split(' ')[0]!.toLowerCase()}@example.com`,
      GIT_COMMITTER_NAME: author,
      GIT_COMMITTER_EMAIL: `${author.split(' ')[0]!.toLowerCase()}@example.com`,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

const grant = (user: string, permissions: string[], end?: string) =>
  `user: ${user}\napp: db\npermissions: [${permissions.join(', ')}]\n${end ? `end: ${end}\n` : ''}`;

/** A scripted history: a direct grant, a request merged from a branch, a change, a rename, a deletion, an expiry. */
function scriptedRepo() {
  const dir = writeTree({
    'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n',
    'grants/_people.yaml':
      'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n  - { id: bob, name: Bob, email: bob@example.com }\n  - { id: carol, name: Carol, email: carol@example.com }\n',
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol]\n',
    '.gitignore': '.iden/\n',
  });
  git(dir, ['init', '-q', '-b', 'main']);
  const c = {} as Record<string, string>;
  c.setup = commit(dir, 'Set up the access repository', '2026-10-01T09:00:00Z');
  writeTree({ 'grants/db/alice.yaml': grant('alice', ['readonly']) }, dir);
  c.direct = commit(dir, 'Grant alice read access to db', '2026-10-02T10:00:00Z');
  git(dir, ['checkout', '-q', '-b', 'bob-access']);
  writeTree({ 'grants/db/bob.yaml': grant('bob', ['readonly'], '2026-12-01') }, dir);
  c.request = commit(dir, 'Request db read access for bob', '2026-10-03T11:00:00Z', 'Bob Okafor');
  git(dir, ['checkout', '-q', 'main']);
  execFileSync(
    'git',
    ['merge', '-q', '--no-ff', '-m', 'Merge pull request #7 from acme/bob-access', 'bob-access'],
    {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Carol',
        GIT_AUTHOR_EMAIL: 'c@x',
        GIT_COMMITTER_NAME: 'Carol',
        GIT_COMMITTER_EMAIL: 'c@x',
        GIT_AUTHOR_DATE: '2026-10-04T12:00:00Z',
        GIT_COMMITTER_DATE: '2026-10-04T12:00:00Z',
      },
    },
  );
  c.merge = git(dir, ['rev-parse', 'HEAD']).trim();
  writeTree({ 'grants/db/alice.yaml': `${grant('alice', ['readonly', 'writer'])}# comment\n` }, dir);
  c.change = commit(dir, 'Give alice writer on db (#9)', '2026-10-10T08:00:00Z');
  writeTree({ 'README.md': 'notes\n' }, dir);
  commit(dir, 'Docs only', '2026-10-11T08:00:00Z');
  writeTree({ 'grants/db/carl.yaml': grant('carl', ['readonly'], '2026-11-15') }, dir);
  c.carl = commit(dir, 'Grant carl', '2026-10-15T08:00:00Z');
  renameSync(join(dir, 'grants/db/carl.yaml'), join(dir, 'grants/db/carol.yaml'));
  writeTree({ 'grants/db/carol.yaml': grant('carol', ['readonly'], '2026-11-15') }, dir);
  c.rename = commit(dir, 'carl is carol', '2026-10-20T08:00:00Z');
  rmSync(join(dir, 'grants/db/alice.yaml'));
  c.remove = commit(dir, 'Remove alice from db', '2026-11-01T08:00:00Z');
  rmSync(join(dir, 'grants/db/bob.yaml'));
  c.expire = commit(dir, 'expire: bob from db (ended 2026-12-01)', '2026-12-02T08:00:00Z', 'iden');
  return { dir, c };
}

async function events(dir: string, ...args: string[]): Promise<AuditEvent[]> {
  const result = await runCli(['audit', '--repo', dir, '--format', 'json', ...args]);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { events: AuditEvent[] }).events;
}

describe('iden audit', () => {
  const { dir, c } = scriptedRepo();

  it('gives one event per commit that touched a grant, oldest first, with the expiry where an end passed', async () => {
    const all = await events(dir);
    expect(all.map((e) => [e.date, e.kind, e.app, e.user, e.commit, e.author, e.pr])).toEqual([
      ['2026-10-02T10:00:00.000Z', 'granted', 'db', 'alice', c.direct, 'Alice Martin', undefined],
      ['2026-10-04T12:00:00.000Z', 'granted', 'db', 'bob', c.merge, 'Carol', 7],
      ['2026-10-10T08:00:00.000Z', 'changed', 'db', 'alice', c.change, 'Alice Martin', 9],
      ['2026-10-15T08:00:00.000Z', 'granted', 'db', 'carl', c.carl, 'Alice Martin', undefined],
      ['2026-10-20T08:00:00.000Z', 'changed', 'db', 'carol', c.rename, 'Alice Martin', undefined],
      ['2026-11-01T08:00:00.000Z', 'revoked', 'db', 'alice', c.remove, 'Alice Martin', undefined],
      ['2026-11-15T00:00:00.000Z', 'expired', 'db', 'carol', c.rename, 'Alice Martin', undefined],
      ['2026-12-02T08:00:00.000Z', 'expired', 'db', 'bob', c.expire, 'iden', undefined],
    ]);
    expect(all[0]!.changes).toEqual({
      user: { new: 'alice' },
      app: { new: 'db' },
      permissions: { new: ['readonly'] },
    });
    expect(all[2]!.changes).toEqual({ permissions: { old: ['readonly'], new: ['readonly', 'writer'] } });
    expect(all[4]!.changes).toEqual({
      user: { old: 'carl', new: 'carol' },
      file: { old: 'grants/db/carl.yaml', new: 'grants/db/carol.yaml' },
    });
    expect(all[5]!.changes).toEqual({
      user: { old: 'alice' },
      app: { old: 'db' },
      permissions: { old: ['readonly', 'writer'] },
    });
  });

  it('filters by person (following renames), app and time', async () => {
    expect((await events(dir, '--user', 'alice')).map((e) => e.kind)).toEqual([
      'granted',
      'changed',
      'revoked',
    ]);
    expect((await events(dir, '--user', 'carl')).map((e) => `${e.kind} ${e.user}`)).toEqual([
      'granted carl',
      'changed carol',
    ]);
    expect((await events(dir, '--app', 'github')).length).toBe(0);
    const window = await events(dir, '--since', '2026-10-10T08:00:00Z', '--until', '2026-11-01T08:00:00Z');
    expect(window.map((e) => e.commit)).toEqual([c.change, c.carl, c.rename]);
  });

  it('answers who had access at an instant from history alone', async () => {
    const asOf = async (at: string) => {
      const result = await runCli(['audit', '--repo', dir, '--as-of', at, '--format', 'json']);
      return JSON.parse(result.stdout) as { asOf: string; access: unknown[] };
    };
    // The request sat on its branch until the merge: on the 3rd only alice has access.
    expect(await asOf('2026-10-03T12:00:00Z')).toEqual({
      asOf: '2026-10-03T12:00:00.000Z',
      access: [{ user: 'alice', app: 'db', permissions: ['readonly'] }],
    });
    expect((await asOf('2026-10-12T00:00:00Z')).access).toEqual([
      { user: 'alice', app: 'db', permissions: ['readonly', 'writer'] },
      { user: 'bob', app: 'db', permissions: ['readonly'] },
    ]);
    expect((await asOf('2026-11-16T00:00:00Z')).access).toEqual([
      { user: 'bob', app: 'db', permissions: ['readonly'] },
    ]);
    expect((await asOf('2026-09-01T00:00:00Z')).access).toEqual([]);
    const csv = await runCli(['audit', '--repo', dir, '--as-of', '2026-10-12T00:00:00Z', '--format', 'csv']);
    expect(csv.stdout).toBe(
      'user,app,permissions,license\r\nalice,db,readonly writer,\r\nbob,db,readonly,\r\n',
    );
  });

  it('writes CSV with the documented columns, quoting what needs it', async () => {
    const result = await runCli(['audit', '--repo', dir, '--user', 'alice', '--format', 'csv']);
    const lines = result.stdout.split('\r\n');
    expect(lines[0]).toBe('commit,date,author,user,app,kind,pr,changes,approvers,applied');
    expect(lines[2]).toBe(
      `${c.change},2026-10-10T08:00:00.000Z,Alice Martin,alice,db,changed,9,"permissions: [readonly] -> [readonly, writer]",,`,
    );
  });

  it('attaches the apply records kept as git notes to the events they carried out', async () => {
    await appendRecord(
      dir,
      c.direct!,
      {
        run: '2026-10-02T10:05:00.000Z',
        at: '2026-10-02T10:05:00.000Z',
        command: 'apply',
        changes: [
          {
            action: 'grant',
            app: 'db',
            user: 'alice',
            entitlement: 'readonly',
            reason: 'new-grant',
            outcome: 'granted',
          },
        ],
      },
      false,
    );
    await appendRecord(
      dir,
      c.expire!,
      {
        run: '2026-12-02T08:00:00.000Z',
        at: '2026-12-02T08:00:00.000Z',
        command: 'reconcile',
        changes: [
          {
            action: 'revoke',
            app: 'db',
            user: 'bob',
            entitlement: 'readonly',
            reason: 'expired',
            outcome: 'revoked',
          },
        ],
      },
      false,
    );
    const all = await events(dir);
    expect(all[0]!.applied).toEqual([
      {
        commit: c.direct,
        run: '2026-10-02T10:05:00.000Z',
        command: 'apply',
        action: 'grant',
        entitlement: 'readonly',
        reason: 'new-grant',
        outcome: 'granted',
      },
    ]);
    expect(all.find((e) => e.user === 'bob' && e.kind === 'expired')!.applied).toHaveLength(1);
    expect(all.find((e) => e.user === 'bob' && e.kind === 'granted')!.applied).toBeUndefined();
  });
});

describe('apply records from real runs', () => {
  it('keeps a git note per run on the commit it reconciled and pushes it to the remote', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'iden-remote-'));
    git(remote, ['init', '-q', '--bare', '-b', 'main']);
    const dir = mkdtempSync(join(tmpdir(), 'iden-records-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    git(dir, ['init', '-q', '-b', 'main']);
    git(dir, ['remote', 'add', 'origin', remote]);
    const head = commit(dir, 'Example access repository', '2026-11-20T10:00:00Z');
    git(dir, ['push', '-q', 'origin', 'main']);
    seedEmbedded(dir, 'analytics');

    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `apply record kept as a git note on ${head.slice(0, 12)} and pushed to origin`,
    );
    expect(git(remote, ['notes', '--ref=iden', 'show', head])).toContain('"outcome":"granted"');

    const audit = await events(dir, '--user', 'alice', '--app', 'analytics');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.applied?.map((a) => `${a.action} ${a.entitlement} ${a.outcome}`)).toEqual([
      'grant readonly granted',
      'grant writer granted',
    ]);
  });

  it('applies, then fails the run saying the record was not pushed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-nopush-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    git(dir, ['init', '-q', '-b', 'main']);
    git(dir, ['remote', 'add', 'origin', join(dir, 'no-such-remote')]);
    commit(dir, 'Example', '2026-11-20T10:00:00Z');
    seedEmbedded(dir, 'analytics');
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--at', NOW]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Applied: 4 granted');
    expect(run.stderr).toMatch(/warning: apply record kept as a git note on \w+ but NOT pushed to origin/);
  });
});

describe('approvers from GitHub', () => {
  let server: Server;
  let url = '';
  const calls: string[] = [];
  beforeAll(async () => {
    // A loopback stand-in for GitHub's "list reviews for a pull request", checked against its published description.
    server = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const match = /^\/repos\/acme\/access\/pulls\/(\d+)\/reviews/.exec(req.url ?? '');
      const page = Number(new URL(req.url ?? '', 'http://x').searchParams.get('page') ?? '1');
      const user = (login: string) => ({
        login,
        id: 1,
        node_id: 'U',
        avatar_url: 'https://a',
        gravatar_id: null,
        url: 'https://u',
        html_url: 'https://h',
        followers_url: 'https://f',
        following_url: 'https://f',
        gists_url: 'https://g',
        starred_url: 'https://s',
        subscriptions_url: 'https://s',
        organizations_url: 'https://o',
        repos_url: 'https://r',
        events_url: 'https://e',
        received_events_url: 'https://r',
        type: 'User',
        site_admin: false,
      });
      const review = (id: number, login: string, state: string) => ({
        id,
        node_id: 'R',
        user: user(login),
        body: '',
        state,
        html_url: 'https://h',
        pull_request_url: 'https://p',
        _links: { html: { href: 'https://h' }, pull_request: { href: 'https://p' } },
        submitted_at: '2026-10-04T11:00:00Z',
        commit_id: 'abc',
        author_association: 'MEMBER',
      });
      const pages: Record<number, object[]> = {
        1: [review(1, 'carol', 'APPROVED'), review(2, 'mallory', 'APPROVED')],
        2: [review(3, 'mallory', 'CHANGES_REQUESTED'), review(4, 'dave', 'COMMENTED')],
      };
      const body = match ? (pages[page] ?? []) : { message: 'Not Found', documentation_url: 'https://docs' };
      const status = match ? 200 : 404;
      if (match) checkResponse('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', status, body);
      if (match && page === 1)
        res.setHeader(
          'link',
          `<${url}/repos/acme/access/pulls/${match[1]}/reviews?per_page=100&page=2>; rel="next"`,
        );
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('names the reviewers whose latest review approved, and reads each pull request once', async () => {
    const { dir } = scriptedRepo();
    const env = { GITHUB_TOKEN: 't', GITHUB_API_URL: url, GITHUB_REPOSITORY: 'acme/access' };
    const run = async () => {
      const result = await runCli(['audit', '--repo', dir, '--user', 'bob', '--format', 'json'], { env });
      return (JSON.parse(result.stdout) as { events: AuditEvent[] }).events;
    };
    const first = await run();
    expect(first[0]).toMatchObject({ kind: 'granted', pr: 7, approvers: ['carol'] });
    expect(calls.filter((c) => c.includes('/pulls/7/')).length).toBe(2);
    await run();
    expect(calls.filter((c) => c.includes('/pulls/7/')).length).toBe(2);
  });
});
