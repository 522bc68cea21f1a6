import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/model/clock.js';
import { recordDigest } from '../../src/model/record.js';
import { packageRoot } from '../../src/util/package-root.js';
import { type AuditJson, auditJson as auditAt, commitAs } from '../helpers/audit.js';
import { runCli as runAt, TEST_NOW } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const PEOPLE = `people:
  - { id: alice, name: Alice Martin, email: alice@example.com }
  - { id: bob, name: Bob Okafor, email: bob@example.com }
  - { id: carol, name: Carol Nguyen, email: carol@example.com }
  - { id: dave, name: Dave Schulz, email: dave@example.com }
  - { id: heidi, name: Heidi Larsen, email: heidi@example.com }
  - { id: ivan, name: Ivan Petrov, email: ivan@example.com }
  - { id: mallory, name: Mallory, email: mallory@example.com }
`;
const grant = (user: string, permissions: string[], extra = '') =>
  `user: ${user}\napp: analytics\npermissions: [${permissions.join(', ')}]\n${extra}`;

/** An access repository with the embedded analytics app only, committed, and its database seeded. */
function analyticsRepo(grants: Record<string, string>, date?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-records-'));
  writeTree(
    {
      'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
      'grants/_people.yaml': PEOPLE,
      'grants/analytics/_app.yaml': readFileSync(join(packageRoot(), 'grants/analytics/_app.yaml'), 'utf8'),
      '.gitignore': '.iden/\n',
      ...Object.fromEntries(
        Object.entries(grants).map(([user, text]) => [`grants/analytics/${user}.yaml`, text]),
      ),
    },
    dir,
  );
  git(dir, ['init', '-q', '-b', 'main']);
  if (date) commitAs(dir, 'access', date);
  else {
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'access'], new Date(clock.now() - 1000).toISOString());
  }
  seedEmbedded(dir, 'analytics');
  return dir;
}

/** Commits the work tree at the real time (a second ago, so a run right after is later). */
/**
 * These tests are about runs in sequence: each test has a clock that moves a
 * minute at every commit, run and audit, and never reads the calendar.
 */
let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock(TEST_NOW);
});
const tick = () => {
  clock.advance(60_000);
  return clock;
};
const runCli = (args: string[], options: Parameters<typeof runAt>[1] = {}) =>
  runAt(args, { ...options, clock: tick() });
const auditJson = (dir: string, args: string[] = [], options: Parameters<typeof auditAt>[2] = {}) =>
  auditAt(dir, args, { ...options, clock: tick() });

function commitNow(dir: string, message: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', message], new Date(tick().now()).toISOString());
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

async function sql(dir: string, text: string): Promise<void> {
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'analytics'));
  await db.exec(text);
  await db.close();
}

async function reconcile(dir: string, ...extra: string[]) {
  return runCli(['reconcile', '--repo', dir, '--yes', ...extra]);
}

const noteLines = (dir: string, commit: string) =>
  git(dir, ['notes', '--ref=iden', 'show', commit]).split('\n').filter(Boolean);
const setNote = (dir: string, commit: string, lines: string[]) =>
  git(dir, ['notes', '--ref=iden', 'add', '-f', '-m', lines.join('\n'), commit]);
const codes = (a: AuditJson) => a.warnings.map((w) => w.code);

describe('apply records are evidence', () => {
  it('chains each run to the one before; audit verifies the chain and fails on an edited, dropped or forged record', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    expect((await reconcile(dir)).code).toBe(0);
    const first = git(dir, ['rev-parse', 'HEAD']).trim();
    writeTree({ 'grants/analytics/bob.yaml': grant('bob', ['readonly']) }, dir);
    const second = commitNow(dir, 'bob');
    const copy = join(dir, '..', `record-${clock.now()}.jsonl`);
    const run = await reconcile(dir, '--record-file', copy);
    expect(run.code).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(`${noteLines(dir, second)[0]}\n`);
    expect(run.stderr).toMatch(
      /notice: apply record [0-9a-f]{12} kept as a git note on \w+; no remote to push it to/,
    );

    const [r1] = noteLines(dir, first).map((l) => JSON.parse(l));
    const [r2] = noteLines(dir, second).map((l) => JSON.parse(l));
    expect(r1).toMatchObject({ v: 2, command: 'reconcile', commit: first, prev: [] });
    expect(r2.prev).toEqual([r1.digest]);
    expect(recordDigest(r2)).toBe(r2.digest);

    const clean = await auditJson(dir);
    expect(clean.source.records).toEqual({ total: 2, verified: 2 });
    expect(codes(clean)).toEqual(['no-github']);
    expect(
      clean.events.map((e) => `${e.kind} ${e.user} ${e.applied?.map((a) => a.outcome).join(',')}`),
    ).toEqual(['granted alice granted', 'granted bob granted']);
    const saved = git(dir, ['rev-parse', 'refs/notes/iden']).trim();
    const restore = () => git(dir, ['update-ref', 'refs/notes/iden', saved]);

    // An edited record: its digest no longer matches.
    setNote(dir, first, [JSON.stringify({ ...r1, changes: [{ ...r1.changes[0], outcome: 'failed' }] })]);
    let audit = await auditJson(dir, [], { code: 1 });
    expect(audit.warnings.find((w) => w.code === 'record-edited')).toMatchObject({ commit: first });
    restore();

    // A dropped record: the next one names it.
    git(dir, ['notes', '--ref=iden', 'remove', first]);
    audit = await auditJson(dir, [], { code: 1 });
    expect(audit.warnings.find((w) => w.code === 'record-missing')!.message).toContain(
      `records were removed from refs/notes/iden`,
    );
    expect(audit.source.records).toEqual({ total: 1, verified: 0 });
    restore();

    // A record moved to another commit.
    setNote(dir, second, [...noteLines(dir, second), JSON.stringify(r1)]);
    expect(codes(await auditJson(dir, [], { code: 1 }))).toContain('record-moved');
    restore();

    // A record in the old unchained form, added after the chain began.
    const fake = {
      run: new Date().toISOString(),
      command: 'apply',
      changes: [
        {
          action: 'grant',
          app: 'analytics',
          user: 'mallory',
          entitlement: 'writer',
          reason: 'new-grant',
          outcome: 'granted',
        },
      ],
    };
    setNote(dir, second, [...noteLines(dir, second), JSON.stringify(fake)]);
    audit = await auditJson(dir, ['--user', 'mallory'], { code: 1 });
    expect(codes(audit)).toContain('record-forged');
    expect(audit.events).toEqual([]);
    restore();

    // A malformed line is reported with its commit and skipped; the rest stands.
    setNote(dir, second, [...noteLines(dir, second), '{"changes":[null]}', 'not json']);
    audit = await auditJson(dir);
    expect(audit.warnings.filter((w) => w.code === 'unreadable-record').map((w) => w.commit)).toEqual([
      second,
      second,
    ]);
    expect(audit.events.map((e) => e.applied?.length)).toEqual([1, 1]);
  });

  it('signs records with IDEN_RECORD_KEY; without the key no one can add one that verifies', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    const env = { IDEN_RECORD_KEY: 'correct horse battery staple' };
    expect((await runCli(['reconcile', '--repo', dir, '--yes'], { env })).code).toBe(0);
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const [record] = noteLines(dir, head).map((l) => JSON.parse(l));
    expect(record.mac).toMatch(/^hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain('correct horse');

    expect(codes(await auditJson(dir, [], { env }))).toEqual(['no-github']);
    expect(codes(await auditJson(dir))).toContain('record-key-absent');
    expect(codes(await auditJson(dir, [], { env: { IDEN_RECORD_KEY: 'another key' }, code: 1 }))).toContain(
      'record-forged',
    );

    // Someone who can push, but has no key, writes a record with a valid digest and chain.
    const { digest: _d, mac: _m, ...content } = record;
    const forged = {
      ...content,
      run: new Date().toISOString(),
      prev: [record.digest],
      changes: [{ ...record.changes[0], user: 'mallory', account: 'mallory' }],
    };
    const sealed = { ...forged, digest: recordDigest(forged) };
    setNote(dir, head, [...noteLines(dir, head), JSON.stringify(sealed)]);
    // Without the key, the chain holds (the README says what the key is for)…
    expect(codes(await auditJson(dir))).toContain('record-key-absent');
    // …with it, the record is refused.
    const audit = await auditJson(dir, ['--user', 'mallory'], { env, code: 1 });
    expect(codes(audit)).toContain('record-unsigned');
    expect(audit.events).toEqual([]);
  });

  it('with the record key, refuses unsigned records of the old form too, unless older than records.signedSince', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    // alice's account is a group role made by hand: iden grants nothing to a group, so her grant fails.
    await sql(dir, 'CREATE ROLE alice NOLOGIN; CREATE ROLE alice_member LOGIN; GRANT alice TO alice_member;');
    const env = { IDEN_RECORD_KEY: 'correct horse battery staple' };
    const first = await runCli(['reconcile', '--repo', dir, '--yes'], { env });
    expect(first.code, first.stderr).toBe(1);
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    // Someone who can push drops the chain and writes a record of the form before it, saying the grant was applied.
    const run = new Date(clock.now()).toISOString();
    const forged = {
      run,
      at: run,
      command: 'reconcile',
      changes: [
        {
          action: 'grant',
          app: 'analytics',
          user: 'alice',
          account: 'alice',
          entitlement: 'readonly',
          reason: 'new-grant',
          outcome: 'granted',
        },
      ],
    };
    setNote(dir, head, [JSON.stringify(forged)]);
    const asOf = ['--as-of', new Date(clock.now() + 60_000).toISOString()];
    const refused = (await runCli(['audit', '--repo', dir, '--format', 'json', ...asOf], { env })) as {
      code: number;
      stdout: string;
    };
    expect(refused.code, JSON.stringify(refused)).toBe(1);
    const view = JSON.parse(refused.stdout) as {
      warnings: { code: string }[];
      access: { user: string; items: Record<string, string> }[];
    };
    expect(view.warnings.map((w) => w.code)).toContain('record-unsigned');
    expect(view.access.find((a) => a.user === 'alice')!.items.readonly).not.toBe('yes');
    // Records from before the key was set are read, when the settings say when that was.
    writeTree(
      {
        'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}records: { signedSince: '${new Date(clock.now() + 3_600_000).toISOString()}' }\n`,
      },
      dir,
    );
    commitNow(dir, 'records are signed from now on');
    setNote(dir, head, [JSON.stringify(forged)]);
    const older = await runCli(['audit', '--repo', dir, '--format', 'json', ...asOf], { env });
    expect(JSON.parse(older.stdout).warnings.map((w: { code: string }) => w.code)).not.toContain(
      'record-unsigned',
    );
  });

  it('says when records were not fetched, and reads them once they are', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'iden-remote-'));
    git(remote, ['init', '-q', '--bare', '-b', 'main']);
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    git(dir, ['remote', 'add', 'origin', remote]);
    git(dir, ['push', '-q', 'origin', 'main']);
    const run = await reconcile(dir);
    expect(run.stderr).toMatch(/notice: apply record \w+ kept as a git note on \w+ and pushed to origin/);

    const clone = mkdtempSync(join(tmpdir(), 'iden-clone-'));
    git(clone, ['clone', '-q', remote, '.']);
    let audit = await auditJson(clone);
    expect(audit.source.notesFetched).toBe(false);
    expect(codes(audit)).toContain('no-records');
    expect(audit.events[0]!.applied).toBeUndefined();
    git(clone, ['fetch', '-q', 'origin', 'refs/notes/iden:refs/notes/iden']);
    audit = await auditJson(clone);
    expect(audit.source.notesFetched).toBe(true);
    expect(audit.events[0]!.applied?.map((a) => a.outcome)).toEqual(['granted']);
  });

  it('continues the chain from the remote: two clones recording in turn leave one chain', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'iden-remote-'));
    git(remote, ['init', '-q', '--bare', '-b', 'main']);
    const a = analyticsRepo({ alice: grant('alice', ['readonly']) });
    git(a, ['remote', 'add', 'origin', remote]);
    git(a, ['push', '-q', 'origin', 'main']);
    const b = mkdtempSync(join(tmpdir(), 'iden-clone-'));
    git(b, ['clone', '-q', remote, '.']);
    seedEmbedded(b, 'analytics');
    expect((await reconcile(a)).code).toBe(0);
    // b never fetched a's record; its run fetches and merges it before chaining.
    expect((await reconcile(b)).code).toBe(0);
    writeTree({ 'grants/analytics/bob.yaml': grant('bob', ['readonly']) }, a);
    commitNow(a, 'bob');
    git(a, ['push', '-q', 'origin', 'main']);
    expect((await reconcile(a)).code).toBe(0);
    git(b, ['pull', '-q', 'origin', 'main']);
    git(b, ['fetch', '-q', 'origin', '+refs/notes/iden:refs/notes/iden']);
    const audit = await auditJson(b);
    expect(audit.source.records).toEqual({ total: 3, verified: 3 });
    expect(codes(audit)).toEqual(['no-github']);
  });

  it('applies, then fails the run saying the record was not pushed', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    git(dir, ['remote', 'add', 'origin', join(dir, 'no-such-remote')]);
    const run = await reconcile(dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Applied: 1 granted');
    expect(run.stderr).toMatch(
      /warning: apply record \w+ kept as a git note on \w+ but NOT pushed to origin/,
    );
  });
});

describe('history rewrites and partial clones', () => {
  it('shows access applied from commits a force-push removed, and says the history was rewritten', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    writeTree({ 'grants/analytics/mallory.yaml': grant('mallory', ['writer']) }, dir);
    const dropped = commitNow(dir, 'mallory');
    expect((await reconcile(dir)).code).toBe(0);
    // The grant and any trace of it are rewritten away.
    git(dir, ['reset', '-q', '--hard', 'HEAD~1']);
    expect((await reconcile(dir)).code).toBe(0);
    const audit = await auditJson(dir, ['--user', 'mallory']);
    expect(audit.events.map((e) => `${e.kind} ${e.applied![0]!.action} ${e.applied![0]!.reason}`)).toEqual([
      'applied-unmatched grant new-grant',
      'drift-removed revoke drift',
    ]);
    expect(audit.events[0]!.commit).toBe(dropped);
    expect(audit.source.rewrittenSince).toBeDefined();
    expect(audit.warnings.find((w) => w.code === 'orphaned-records')!.message).toContain(
      dropped.slice(0, 12),
    );
  });

  it('warns that a shallow clone misses history', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) }, '2026-08-01T00:00:00Z');
    writeTree({ 'grants/analytics/bob.yaml': grant('bob', ['readonly']) }, dir);
    commitAs(dir, 'bob', '2026-08-02T00:00:00Z');
    const clone = mkdtempSync(join(tmpdir(), 'iden-shallow-'));
    git(clone, ['clone', '-q', '--depth', '1', `file://${dir}`, '.']);
    const audit = await auditJson(clone);
    expect(audit.source.shallow).toBe(true);
    expect(audit.warnings.find((w) => w.code === 'shallow-clone')!.message).toContain(
      'git fetch --unshallow',
    );
  });
});

describe('fact beside intent', () => {
  it('tells applied, failed, held, pending and unexpected access at each instant, from the records of real runs', async () => {
    const dir = analyticsRepo({
      alice: grant('alice', ['readonly']),
      heidi: grant('heidi', ['readonly']),
      ivan: grant('ivan', ['readonly', 'no-such-role']),
    });
    // heidi's account is a group role made by hand: iden grants nothing to a group, so her grant fails on every run.
    await sql(dir, 'CREATE ROLE heidi NOLOGIN; CREATE ROLE heidi_member LOGIN; GRANT heidi TO heidi_member;');
    expect((await reconcile(dir)).code).toBe(1);
    writeTree({ 'grants/analytics/bob.yaml': grant('bob', ['readonly']) }, dir);
    commitNow(dir, 'bob');
    const merged = clock.now();

    const asOf = async (at: number) => {
      const result = await runCli([
        'audit',
        '--repo',
        dir,
        '--as-of',
        new Date(at).toISOString(),
        '--format',
        'json',
      ]);
      return JSON.parse(result.stdout) as {
        access: { user: string; applied: string; items: Record<string, string> }[];
        unexpected: { user: string; why: string; entitlement?: string }[];
      };
    };
    let view = await asOf(merged);
    expect(Object.fromEntries(view.access.map((a) => [a.user, a.items]))).toEqual({
      alice: { readonly: 'yes' },
      bob: { readonly: 'pending' },
      heidi: { readonly: 'failed' },
      ivan: { readonly: 'held', 'no-such-role': 'held' },
    });
    expect(view.unexpected).toEqual([]);

    expect((await reconcile(dir)).code).toBe(1); // heidi fails again
    view = await asOf(clock.now());
    expect(view.access.find((a) => a.user === 'bob')!.applied).toBe('yes');
    expect(view.access.find((a) => a.user === 'heidi')!.applied).toBe('failed');

    // A run pinned at a later instant applies carol's grant before it starts.
    writeTree({ 'grants/analytics/carol.yaml': grant('carol', ['readonly'], 'start: 2099-01-01\n') }, dir);
    commitNow(dir, 'carol from 2099');
    await runCli(['reconcile', '--repo', dir, '--yes', '--at', '2099-01-02T00:00:00Z']);
    const audit = await runCli(['audit', '--repo', dir, '--as-of', 'now', '--format', 'json']);
    const now = JSON.parse(audit.stdout) as { unexpected: unknown[]; warnings: { code: string }[] };
    expect(now.unexpected).toEqual([
      expect.objectContaining({ user: 'carol', app: 'analytics', entitlement: 'readonly', why: 'early' }),
    ]);
    expect(now.warnings.map((w) => w.code)).toContain('pinned-runs');
  });

  it('lists drift removed and failed changes as events of their own', async () => {
    const dir = analyticsRepo({ alice: grant('alice', ['readonly']) });
    // A group role made by hand: iden grants nothing to it.
    await sql(dir, 'CREATE ROLE heidi NOLOGIN; CREATE ROLE heidi_member LOGIN; GRANT heidi TO heidi_member;');
    expect((await reconcile(dir)).code).toBe(0);
    await sql(dir, 'GRANT analytics_write TO alice;');
    writeTree({ 'grants/analytics/heidi.yaml': grant('heidi', ['readonly']) }, dir);
    commitNow(dir, 'heidi');
    expect((await reconcile(dir)).code).toBe(1);
    const audit = await auditJson(dir);
    expect(audit.events.map((e) => `${e.kind} ${e.user}`)).toEqual([
      'granted alice',
      'granted heidi',
      // In the order the run made them: grants first.
      'apply-failed heidi',
      'drift-removed alice',
    ]);
    const failed = audit.events.find((e) => e.kind === 'apply-failed')!;
    expect(failed.applied![0]!.error).toContain('iden never grants to it');
    // The failure is also under the grant it failed to carry out.
    expect(audit.events[1]!.applied![0]!.outcome).toBe('failed');
  });

  it('puts an expiry record under the expiry, credited to the run that removed it', async () => {
    const dir = analyticsRepo(
      { dave: grant('dave', ['readonly'], 'end: 2026-07-01\n') },
      '2026-05-01T00:00:00Z',
    );
    expect((await reconcile(dir, '--at', '2026-06-01T00:00:00Z')).code).toBe(0);
    expect((await reconcile(dir, '--at', '2026-07-02T00:00:00Z', '--commit', '--no-push')).code).toBe(0);
    const audit = await auditJson(dir, ['--user', 'dave']);
    expect(audit.events.map((e) => `${e.date} ${e.kind}`)).toEqual([
      '2026-05-01T00:00:00.000Z granted',
      '2026-07-01T00:00:00.000Z expired',
    ]);
    const expired = audit.events[1]!;
    expect(expired.commit).toBe(git(dir, ['rev-parse', 'HEAD']).trim());
    expect(expired.author).toMatch(/^.+@.+$/);
    expect(expired.applied!.map((a) => `${a.action} ${a.reason} ${a.outcome}`)).toEqual([
      'revoke expired revoked',
    ]);
    expect(audit.events[0]!.applied!.map((a) => a.reason)).toEqual(['new-grant']);
  });
});

describe('the shape of records', () => {
  it('keeps a record when what is held back changes, and not for every run that changes nothing', async () => {
    const dir = analyticsRepo({ ivan: grant('ivan', ['no-such-role']) });
    await reconcile(dir);
    await reconcile(dir);
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const lines = noteLines(dir, head).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ changes: [], held: [{ app: 'analytics', user: 'ivan' }] });
    rmSync(join(dir, 'grants/analytics/ivan.yaml'));
    writeFileSync(join(dir, 'grants/analytics/.gitkeep'), '');
    const next = commitNow(dir, 'no ivan');
    await reconcile(dir);
    expect(noteLines(dir, next).map((l) => JSON.parse(l).held)).toEqual([undefined]);
  });
});
