import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditJson, commitAs, grantYaml, mergeAs } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

const SETUP = {
  'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n',
  'grants/_people.yaml':
    'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n  - { id: bob, name: Bob, email: bob@example.com }\n  - { id: carol, name: Carol, email: carol@example.com }\n  - { id: carl, name: Carl, email: carl@example.com }\n',
  'grants/db/_app.yaml':
    'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol]\n',
  '.gitignore': '.iden/\n',
};

/**
 * A scripted history: a direct grant, a request merged from a branch, a
 * change, a file renamed to another person, a deletion, and an ended grant
 * deleted by an `expire:` commit. Every date is in the past.
 */
function scriptedRepo() {
  const dir = writeTree(SETUP);
  git(dir, ['init', '-q', '-b', 'main']);
  const c = {} as Record<string, string>;
  c.setup = commitAs(dir, 'Set up the access repository', '2026-08-01T09:00:00Z');
  writeTree({ 'grants/db/alice.yaml': grantYaml('alice', ['readonly']) }, dir);
  c.direct = commitAs(dir, 'Grant alice read access to db', '2026-08-02T10:00:00Z');
  git(dir, ['checkout', '-q', '-b', 'bob-access']);
  writeTree({ 'grants/db/bob.yaml': grantYaml('bob', ['readonly'], 'end: 2026-10-01\n') }, dir);
  c.request = commitAs(dir, 'Request db read access for bob', '2026-08-03T11:00:00Z', 'Bob Okafor');
  git(dir, ['checkout', '-q', 'main']);
  c.merge = mergeAs(dir, 'bob-access', 'Merge pull request #7 from acme/bob-access', '2026-08-04T12:00:00Z');
  writeTree({ 'grants/db/alice.yaml': `${grantYaml('alice', ['readonly', 'writer'])}# comment\n` }, dir);
  c.change = commitAs(dir, 'Give alice writer on db (#9)', '2026-08-10T08:00:00Z');
  writeTree({ 'README.md': 'notes\n' }, dir);
  commitAs(dir, 'Docs only', '2026-08-11T08:00:00Z');
  writeTree({ 'grants/db/carl.yaml': grantYaml('carl', ['readonly'], 'end: 2026-09-15\n') }, dir);
  c.carl = commitAs(dir, 'Grant carl', '2026-08-15T08:00:00Z');
  renameSync(join(dir, 'grants/db/carl.yaml'), join(dir, 'grants/db/carol.yaml'));
  writeTree({ 'grants/db/carol.yaml': grantYaml('carol', ['readonly'], 'end: 2026-09-15\n') }, dir);
  c.rename = commitAs(dir, 'carl is carol', '2026-08-20T08:00:00Z');
  rmSync(join(dir, 'grants/db/alice.yaml'));
  c.remove = commitAs(dir, 'Remove alice from db', '2026-09-01T08:00:00Z');
  rmSync(join(dir, 'grants/db/bob.yaml'));
  c.expire = commitAs(dir, 'expire: bob from db (ended 2026-10-01)', '2026-10-02T08:00:00Z', 'iden');
  return { dir, c };
}

describe('iden audit: the timeline', () => {
  const { dir, c } = scriptedRepo();

  it('gives one event per commit that touched a grant, oldest first, with expiries dated at their end', async () => {
    const { events, source, warnings } = await auditJson(dir);
    expect(events.map((e) => [e.date, e.kind, e.app, e.user, e.commit, e.author, e.pr ?? null])).toEqual([
      ['2026-08-02T10:00:00.000Z', 'granted', 'db', 'alice', c.direct, 'Alice Martin', null],
      ['2026-08-04T12:00:00.000Z', 'granted', 'db', 'bob', c.merge, 'Carol', 7],
      ['2026-08-10T08:00:00.000Z', 'changed', 'db', 'alice', c.change, 'Alice Martin', 9],
      ['2026-08-15T08:00:00.000Z', 'granted', 'db', 'carl', c.carl, 'Alice Martin', null],
      // A file renamed to another person is a revocation and a grant, never "user: carl -> carol".
      ['2026-08-20T08:00:00.000Z', 'revoked', 'db', 'carl', c.rename, 'Alice Martin', null],
      ['2026-08-20T08:00:00.000Z', 'granted', 'db', 'carol', c.rename, 'Alice Martin', null],
      ['2026-09-01T08:00:00.000Z', 'revoked', 'db', 'alice', c.remove, 'Alice Martin', null],
      // Ended while the file stayed: no run has removed it, so no one is credited yet.
      ['2026-09-15T00:00:00.000Z', 'expired', 'db', 'carol', c.rename, '', null],
      // Ended, and its file deleted later: one event, at the end.
      ['2026-10-01T00:00:00.000Z', 'expired', 'db', 'bob', c.expire, '', null],
    ]);
    // Without a token, pull request numbers come from subjects, and say so.
    expect(events[1]).toMatchObject({ pr: 7, prSource: 'subject' });
    expect(warnings.map((w) => w.code)).toEqual(['no-records', 'no-github']);
    expect(source).toEqual({
      head: c.expire,
      notesRef: 'refs/notes/iden',
      shallow: false,
      notesFetched: false,
      records: { total: 0, verified: 0 },
    });
    expect(events[0]!.changes).toEqual({
      user: { new: 'alice' },
      app: { new: 'db' },
      permissions: { new: ['readonly'] },
    });
    expect(events[2]!.changes).toEqual({ permissions: { old: ['readonly'], new: ['readonly', 'writer'] } });
    expect(Object.keys(events[1]!)).toEqual([
      'commit',
      'date',
      'author',
      'user',
      'app',
      'kind',
      'pr',
      'prSource',
      'changes',
    ]);
  });

  it('filters by person, app and time', async () => {
    const kinds = async (...args: string[]) =>
      (await auditJson(dir, args)).events.map((e) => `${e.kind} ${e.user}`);
    expect(await kinds('--user', 'alice')).toEqual(['granted alice', 'changed alice', 'revoked alice']);
    expect(await kinds('--user', 'carl')).toEqual(['granted carl', 'revoked carl']);
    expect(await kinds('--app', 'DB')).toEqual(await kinds());
    // An app neither the repository nor its history knows is a mistake to say, not an empty history.
    const unknown = await runCli(['audit', '--repo', dir, '--app', 'github']);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      'iden: --app github: no app of that id in grants/ or its history (apps: db)\n',
    ]);
    const window = await auditJson(dir, [
      '--since',
      '2026-08-10T08:00:00Z',
      '--until',
      '2026-09-01T08:00:00Z',
    ]);
    expect(window.events.map((e) => e.commit)).toEqual([c.change, c.carl, c.rename, c.rename]);
  });

  it('refuses a folder without git history rather than answer that nothing happened', async () => {
    const plain = writeTree({
      'grants/_settings.yaml': 'timezone: UTC\n',
      'grants/_people.yaml': 'people: []\n',
    });
    for (const args of [[], ['--review'], ['--as-of', '2026-09-01']]) {
      const result = await runCli(['audit', '--repo', plain, ...args]);
      expect([result.code, result.stdout]).toEqual([1, '']);
      expect(result.stderr).toBe(
        `iden: ${plain} is not in a git repository (or git could not be run): iden audit answers from the history of the access repository; run it in a clone of it\n`,
      );
    }
  });

  it('writes CSV with the documented columns', async () => {
    const result = await runCli(['audit', '--repo', dir, '--user', 'alice', '--format', 'csv']);
    const lines = result.stdout.split('\r\n');
    expect(lines[0]).toBe('commit,date,author,user,app,kind,pr,changes,approvers,applied');
    expect(lines[2]).toBe(
      `${c.change},2026-08-10T08:00:00.000Z,Alice Martin,alice,db,changed,9,"permissions: [readonly] -> [readonly, writer]",,`,
    );
    // Warnings go to standard error, never into the CSV.
    expect(result.stderr).toContain('warning: no apply records here');
  });

  it('answers who was meant to have access at an instant, from history alone', async () => {
    const asOf = async (at: string, format = 'json') =>
      runCli(['audit', '--repo', dir, '--as-of', at, '--format', format]);
    const view = async (at: string) =>
      JSON.parse((await asOf(at)).stdout) as { asOf: string; commit?: string; access: unknown[] };
    // The request sat on its branch until the merge: on the 3rd only alice has access.
    expect((await view('2026-08-03T12:00:00Z')).access).toEqual([
      {
        user: 'alice',
        app: 'db',
        permissions: ['readonly'],
        applied: 'unknown',
        items: { readonly: 'unknown' },
      },
    ]);
    expect(
      (await view('2026-08-12T00:00:00Z')).access.map(
        (a) => (a as { user: string; permissions: string[] }).permissions,
      ),
    ).toEqual([['readonly', 'writer'], ['readonly']]);
    expect((await view('2026-09-16T00:00:00Z')).access).toEqual([
      {
        user: 'bob',
        app: 'db',
        permissions: ['readonly'],
        applied: 'unknown',
        items: { readonly: 'unknown' },
      },
    ]);
    const bob = await runCli([
      'audit',
      '--repo',
      dir,
      '--as-of',
      '2026-08-12T00:00:00Z',
      '--user',
      'bob',
      '--format',
      'json',
    ]);
    expect(JSON.parse(bob.stdout).access.map((a: { user: string }) => a.user)).toEqual(['bob']);
    const before = await asOf('2026-07-01T00:00:00Z');
    expect(JSON.parse(before.stdout).access).toEqual([]);
    expect(JSON.parse(before.stdout).warnings.map((w: { code: string }) => w.code)).toContain(
      'before-history',
    );
    const csv = await asOf('2026-08-12T00:00:00Z', 'csv');
    expect(csv.stdout).toBe(
      'user,app,permissions,license,applied\r\nalice,db,readonly writer,,unknown\r\nbob,db,readonly,,unknown\r\n',
    );
  });
});

describe('iden audit: history that cannot be forged or misread', () => {
  it('reads fields from git objects, so a commit message with separators forges nothing', async () => {
    const dir = writeTree(SETUP);
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    const other = commitAs(dir, 'another commit', '2026-08-02T09:00:00Z');
    writeTree({ 'grants/db/mallory.yaml': grantYaml('mallory', ['writer']) }, dir);
    // The old reader split `git log` output on these bytes; the subject tries to become another commit.
    const forged = `add\x1e${other}\x1f2026-01-06T10:00:00Z\x1fAlice Martin\x1fa@x\x1fMerge pull request #1 from acme/x\nbody\x1e${other}\x1f`;
    const real = commitAs(dir, forged, '2026-08-05T09:00:00Z', 'Mallory');
    const { events } = await auditJson(dir, ['--user', 'mallory']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      commit: real,
      date: '2026-08-05T09:00:00.000Z',
      author: 'Mallory',
      kind: 'granted',
    });
    expect(events[0]!.pr).toBeUndefined();
  });

  it('reads the first-parent line so a message with NUL and separators forges no commit and no campaign close', async () => {
    const dir = writeTree(SETUP);
    git(dir, ['init', '-q', '-b', 'main']);
    const setup = commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    writeTree({ 'grants/db/mallory.yaml': grantYaml('mallory', ['writer']) }, dir);
    // Its message carries a close's trailers: only a merge that closes campaign q1 may have them read.
    const granted = commitAs(
      dir,
      'Grant mallory writer\n\nIden-Review: q1\nIden-Decision: kept grants/db/mallory.yaml | carol | | still needed',
      '2026-08-02T09:00:00Z',
      'Mallory',
    );
    // A commit object git itself would refuse: after a NUL, its message poses as a campaign's close (a merge).
    const tree = git(dir, ['rev-parse', 'HEAD^{tree}']).trim();
    const fake = `${setup}\x01${setup} ${granted}\x011790000000\x01Close access review q1: kept (#3)`;
    const object = `tree ${tree}\nparent ${granted}\nauthor M <m@x> 1786000000 +0000\ncommitter M <m@x> 1786000000 +0000\n\nClose access review q1: kept (#3)\x01x\0${fake}\0${fake}\n`;
    const forged = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--literally', '--stdin'], {
      cwd: dir,
      input: object,
      encoding: 'utf8',
    }).trim();
    git(dir, ['update-ref', 'refs/heads/main', forged]);
    const { events, source } = await auditJson(dir);
    expect(source.head).toBe(forged);
    expect(events.map((e) => [e.kind, e.user, e.commit, e.position])).toEqual([
      ['granted', 'mallory', granted, undefined],
    ]);
  });

  it('reads non-ASCII and quoted paths', async () => {
    const dir = writeTree(SETUP);
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    writeTree(
      {
        'grants/db/zoë.yaml': grantYaml('zoë', ['readonly']),
        'grants/db/ok.yaml': grantYaml('ok', ['readonly']),
      },
      dir,
    );
    commitAs(dir, 'two', '2026-08-02T09:00:00Z');
    // zoë.yaml is not a grant file name (ids are ASCII): it is not an event, and does not break the next one.
    const { events } = await auditJson(dir);
    expect(events.map((e) => e.user)).toEqual(['ok']);
  });

  it('treats a move between apps as a revocation in one and a grant in the other', async () => {
    const dir = writeTree({
      ...SETUP,
      'grants/wh/_app.yaml':
        'name: WH\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: wh_read }\n',
      'grants/db/frank.yaml': grantYaml('frank', ['readonly']),
    });
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    rmSync(join(dir, 'grants/db/frank.yaml'));
    writeTree({ 'grants/wh/frank.yaml': 'user: frank\napp: wh\npermissions: [readonly]\n' }, dir);
    const move = commitAs(dir, 'frank moves to the warehouse', '2026-08-02T09:00:00Z');
    const { events } = await auditJson(dir, ['--user', 'frank']);
    expect(events.map((e) => `${e.kind} ${e.app}`)).toEqual(['granted db', 'revoked db', 'granted wh']);
    expect(events.slice(1).every((e) => e.commit === move)).toBe(true);
  });

  it('calls a deletion an expiry only when the end had passed, whatever the subject says', async () => {
    const dir = writeTree({
      ...SETUP,
      'grants/db/mallory.yaml': grantYaml('mallory', ['writer'], 'end: 2027-06-01\n'),
    });
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    rmSync(join(dir, 'grants/db/mallory.yaml'));
    commitAs(dir, 'expire: mallory from db (ended 2027-06-01)', '2026-08-02T09:00:00Z');
    const { events } = await auditJson(dir, ['--user', 'mallory']);
    expect(events.map((e) => e.kind)).toEqual(['granted', 'revoked']);
  });

  it('keeps the first-parent order and says so when a commit claims a date before its parent or in the future', async () => {
    const dir = writeTree(SETUP);
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    writeTree({ 'grants/db/alice.yaml': grantYaml('alice', ['readonly']) }, dir);
    const first = commitAs(dir, 'grant', '2026-08-10T09:00:00Z');
    writeTree({ 'grants/db/mallory.yaml': grantYaml('mallory', ['writer']) }, dir);
    const backdated = commitAs(dir, 'backdated', '2020-01-01T00:00:00Z', 'Mallory');
    writeTree({ 'grants/db/bob.yaml': grantYaml('bob', ['readonly']) }, dir);
    const future = commitAs(dir, 'from the future', '2099-01-01T00:00:00Z');
    const { events, warnings } = await auditJson(dir);
    expect(events.map((e) => [e.user, e.commit])).toEqual([
      ['alice', first],
      ['mallory', backdated],
      ['bob', future],
    ]);
    // The backdated commit landed after its parent: it is placed there, not in 2020.
    expect(events[1]!.date).toBe('2026-08-10T09:00:00.000Z');
    expect(Date.parse(events[2]!.date)).toBeLessThanOrEqual(Date.now());
    expect(warnings.filter((w) => w.code === 'commit-date').map((w) => w.commit)).toEqual([
      backdated,
      future,
    ]);
    // So the backdated grant was not in force in 2021.
    const asOf = await runCli([
      'audit',
      '--repo',
      dir,
      '--as-of',
      '2021-01-01T00:00:00Z',
      '--format',
      'json',
    ]);
    expect(JSON.parse(asOf.stdout).access).toEqual([]);
  });

  it('reads a past end in the time zone in force then, not today', async () => {
    const dir = writeTree({
      ...SETUP,
      'grants/_settings.yaml': 'timezone: Pacific/Auckland\nroles:\n  super-admin: [alice]\n',
      'grants/db/bob.yaml': grantYaml('bob', ['readonly'], 'end: 2026-08-20\n'),
    });
    git(dir, ['init', '-q', '-b', 'main']);
    commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
    writeTree(
      { 'grants/_settings.yaml': 'timezone: America/Los_Angeles\nroles:\n  super-admin: [alice]\n' },
      dir,
    );
    commitAs(dir, 'move the zone', '2026-09-01T09:00:00Z');
    const { events } = await auditJson(dir, ['--user', 'bob']);
    // Midnight in Auckland (NZST, +12:00), as it was when the end came.
    expect(events.map((e) => `${e.kind} ${e.date}`)).toEqual([
      'granted 2026-08-01T09:00:00.000Z',
      'expired 2026-08-19T12:00:00.000Z',
    ]);
  });
});

describe('iden audit: output an auditor can open safely', () => {
  const dir = writeTree(SETUP);
  git(dir, ['init', '-q', '-b', 'main']);
  commitAs(dir, 'setup', '2026-08-01T09:00:00Z');
  writeTree(
    {
      'grants/db/mallory.yaml': grantYaml(
        'mallory',
        ['readonly'],
        'reason: "ok\\n2026-08-01T00:00:00.000Z  granted  db/alice  by Auditor\\u001b[2K"\n',
      ),
    },
    dir,
  );
  commitAs(dir, 'grant', '2026-08-02T09:00:00Z', '=HYPERLINK("http://x","y")');

  it('escapes newlines and control characters in text output', async () => {
    const result = await runCli(['audit', '--repo', dir]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(
      'reason: (none) -> ok\\n2026-08-01T00:00:00.000Z  granted  db/alice  by Auditor\\u001b[2K',
    );
    expect(result.stdout).not.toContain('\u001b');
  });

  it('neutralises cells a spreadsheet would run as formulas', async () => {
    const result = await runCli(['audit', '--repo', dir, '--format', 'csv']);
    const row = result.stdout.split('\r\n')[1]!;
    expect(row.split(',')[2]).toBe(`"'=HYPERLINK(""http://x""`);
  });
});
