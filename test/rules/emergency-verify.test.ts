import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewRow } from '../../src/audit/review.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';
import { rulesRepo } from './fixture.js';

/**
 * Emergency access with apply-time verification on, against the loopback
 * GitHub (every request and response checked against GitHub's description):
 * merged without review, it is applied at once; approved after the fact (a
 * reviewed pull request removing emergency: true) it stays; unapproved past
 * the settings' window, the audit flags it and the next run removes it.
 */

let server: GithubPullServer;
beforeAll(async () => {
  server = new GithubPullServer();
  await server.start();
});
afterAll(() => server.stop());

const KEY = 'a record key only the apply job has';
const settings = rulesRepo['grants/_settings.yaml']!.toString()
  .replace(NO_VERIFY, '')
  .replace('emergencyWindow: PT24H', 'emergencyWindow: PT1H');
const emergency = (user: string) =>
  `user: ${user}\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T15:00:00Z\nemergency: true\nreason: INC-7 payouts stuck\n`;
const approved = (user: string) =>
  `user: ${user}\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T15:00:00Z\nreason: INC-7 payouts stuck\n`;

function commitOn(dir: string, message: string, date: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message], date);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** A pull request off main by `author`, reviewed by `reviews` at its head, merged with a merge commit at `at`. */
function merged(
  dir: string,
  number: number,
  files: Record<string, string>,
  author: string,
  reviews: string[],
  at: string,
): string {
  git(dir, ['checkout', '-q', '-b', `pr${number}`, 'main']);
  writeTree(files, dir);
  const head = commitOn(dir, `change ${number}`, at);
  const base = git(dir, ['rev-parse', 'main']).trim();
  git(dir, ['checkout', '-q', 'main']);
  git(dir, ['merge', '-q', '--no-ff', '-m', `Merge pull request #${number}`, `pr${number}`], at);
  const merge = git(dir, ['rev-parse', 'HEAD']).trim();
  server.pulls.set(number, {
    number,
    author,
    head,
    base,
    reviews: reviews.map((login) => ({ login, state: 'APPROVED', commit: head, at })),
    commits: [{ sha: head, author, committer: author }],
    merged: { commit: merge, at, by: 'alice-m' },
  });
  return merge;
}

async function readers(dir: string): Promise<string[]> {
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'payments'));
  try {
    const rows = await db.query<{ member: string }>(
      "SELECT m.rolname AS member FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = 'pay_read' ORDER BY 1",
    );
    return rows.rows.map((r) => r.member);
  } finally {
    await db.close();
  }
}

describe('emergency access verified at apply against GitHub reviews', () => {
  it('is applied unreviewed, stays once approved after the fact, and is flagged then removed when not approved in time', async () => {
    const env = {
      GITHUB_TOKEN: 't',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: server.url,
      IDEN_RECORD_KEY: KEY,
    };
    const dir = writeTree({
      ...rulesRepo,
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': settings,
      'grants/_people.yaml': `${rulesRepo['grants/_people.yaml']}  - { id: gina, name: Gina Hart, email: gina@example.com, accounts: { github: gina-h }, attributes: { department: finance } }\n  - { id: hal, name: Hal Ames, email: hal@example.com, accounts: { github: hal-a }, attributes: { department: finance } }\n`,
      'grants/gh/_app.yaml': null,
      'grants/gh/bob.yaml': null,
      'grants/db/_app.yaml': null,
      'grants/db/alice.yaml': null,
    });
    git(dir, ['init', '-q', '-b', 'main']);
    const first = commitOn(dir, 'the access repository', '2026-11-20T09:00:00Z');
    writeTree({ 'grants/_settings.yaml': `${settings}policy:\n  verifyFrom: ${first}\n` }, dir);
    commitOn(dir, 'verify from here', '2026-11-20T10:00:00Z');
    seedEmbedded(dir, 'payments');
    const db = await PGlite.create(join(dir, '.iden', 'pglite', 'payments'));
    await db.exec('CREATE ROLE pay_submit; CREATE ROLE pay_approve; CREATE ROLE pay_read;');
    await db.close();

    // bob (Users Read/Write, whom the rule lets use emergency access) merges two, unreviewed.
    merged(dir, 1, { 'grants/payments/dave.yaml': emergency('dave') }, 'bob-o', [], '2026-11-27T12:00:00Z');
    merged(dir, 2, { 'grants/payments/frank.yaml': emergency('frank') }, 'bob-o', [], '2026-11-27T12:00:00Z');
    // A third by dave, whom the rule does not let use it: verification holds it.
    merged(dir, 5, { 'grants/payments/hal.yaml': emergency('hal') }, 'bob-o', [], '2026-11-27T12:00:00Z');
    merged(dir, 3, { 'grants/payments/gina.yaml': emergency('gina') }, 'dave-i', [], '2026-11-27T12:00:00Z');
    const apply = (at: string) => runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push'], { env });

    const first_ = await apply('2026-11-27T12:05:00Z');
    expect(first_.stdout).toContain('Applied: 3 granted');
    expect(first_.stdout).toMatch(
      /held: gina in payments[^\n]*not granted: [^\n]*emergency: true is allowed only to super-admin, users-read-write/,
    );
    expect(await readers(dir)).toEqual(['dave', 'frank', 'hal']);

    // dave's is approved after the fact: a pull request removing emergency: true, reviewed by carol in time.
    merged(
      dir,
      4,
      { 'grants/payments/dave.yaml': approved('dave') },
      'bob-o',
      ['Carol-N'],
      '2026-11-27T12:40:00Z',
    );
    // hal's flag is removed by a pull request no one approved: that is no approval after the fact.
    merged(dir, 6, { 'grants/payments/hal.yaml': approved('hal') }, 'bob-o', [], '2026-11-27T12:45:00Z');

    const rows = async (asOf: string) => {
      const out = await runCli(
        ['audit', '--repo', dir, '--review', '--app', 'payments', '--format', 'json', '--as-of', asOf],
        { env },
      );
      if (!out.stdout) throw new Error(out.stderr);
      return (JSON.parse(out.stdout) as { rows: ReviewRow[] }).rows;
    };
    const flagged = await rows('2026-11-27T13:10:00Z');
    expect(flagged.find((r) => r.user === 'frank')!.flags).toContain('emergency-unapproved');
    expect(flagged.find((r) => r.user === 'dave')!.flags).not.toContain('emergency-unapproved');
    expect(flagged.find((r) => r.user === 'hal')!.flags).toContain('emergency-unapproved');

    // Past the window (12:00 + PT1H): frank's is removed; so is hal's, whose flag no approved pull request
    // removed (apply asks GitHub of the change that removed it); dave's stays, its approval verified.
    const later = await apply('2026-11-27T13:10:00Z');
    expect(later.stdout).toMatch(/- frank\s+payments\s+read/);
    expect(later.stdout).toMatch(/- hal\s+payments\s+read/);
    expect(later.stdout).toContain('Applied: 0 granted, 2 revoked');
    expect(await readers(dir)).toEqual(['dave']);
    // A later run past the window keeps dave's.
    const again = await apply('2026-11-27T13:20:00Z');
    expect(again.stdout).toContain('Plan: 0 to grant, 0 to revoke');
    expect(await readers(dir)).toEqual(['dave']);
    expect(server.errors).toEqual([]);
  }, 120_000);
});
