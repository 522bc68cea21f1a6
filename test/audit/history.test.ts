import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/audit/history.js';
import { repositoryRoot, repositoryStart } from '../../src/git/state.js';
import { git } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

const grant = (user: string) => `user: ${user}\napp: db\npermissions: [readonly]\n`;

/** A commit whose message is read from a file, kept verbatim (an empty one too). */
function commitWith(dir: string, message: string, date: string): string {
  const file = join(writeTree({ message }), 'message');
  git(dir, ['add', '-A']);
  git(
    dir,
    ['commit', '-q', '--allow-empty', '--allow-empty-message', '--cleanup=verbatim', '-F', file],
    date,
  );
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/**
 * The history's one `git log`: every first-parent commit placed, only the
 * commits that changed grants/ kept, closes found by subject; and nothing a
 * subject says (a commit id, a raw change, a NUL or \x01) changes its shape.
 */
describe('readHistory: the first-parent line and its changes from one log', () => {
  const dir = writeTree({
    'grants/_settings.yaml': 'timezone: UTC\n',
    'grants/db/alice.yaml': grant('alice'),
  });
  git(dir, ['init', '-q', '-b', 'main']);
  const c: Record<string, string> = {};
  c.setup = commitWith(dir, 'Set up\n', '2026-08-01T09:00:00Z');
  writeTree({ 'README.md': 'docs\n' }, dir);
  c.docs = commitWith(dir, 'Docs only\n', '2026-08-02T09:00:00Z');
  writeTree({ 'grants/db/bob.yaml': grant('bob') }, dir);
  // A subject that is a commit id, then text shaped as a raw change and its path.
  c.forged = commitWith(
    dir,
    `${c.setup}\n\n:000000 100644 ${'0'.repeat(40)} ${'1'.repeat(40)} A\ngrants/db/mallory.yaml\n`,
    '2026-08-03T09:00:00Z',
  );
  writeTree({ 'grants/db/carol.yaml': grant('carol') }, dir);
  c.colon = commitWith(dir, `:100644 100644 ${'2'.repeat(40)} ${'3'.repeat(40)} M\n`, '2026-08-04T09:00:00Z');
  c.empty = commitWith(dir, '', '2026-08-05T09:00:00Z');
  git(dir, ['checkout', '-q', '-b', 'review']);
  writeTree({ 'README.md': 'decided\n' }, dir);
  commitWith(dir, 'Decide\n', '2026-08-06T09:00:00Z');
  git(dir, ['checkout', '-q', 'main']);
  git(
    dir,
    ['merge', '-q', '--no-ff', '-m', 'Close access review q3: 2026-08 (#4)\x01tail', 'review'],
    '2026-08-07T09:00:00Z',
  );
  c.close = git(dir, ['rev-parse', 'HEAD']).trim();
  writeTree({ 'grants/_settings.yaml': 'timezone: Europe/Paris\n' }, dir);
  c.zone = commitWith(dir, 'Paris\n', '2026-08-08T09:00:00Z');

  it('places every first-parent commit and keeps those that changed grants/', async () => {
    const history = await readHistory(dir);
    expect(history.head).toBe(c.zone);
    expect(history.shallow).toBe(false);
    expect([...history.positions]).toEqual(
      [c.setup, c.docs, c.forged, c.colon, c.empty, c.close, c.zone].map((sha, i) => [sha, i]),
    );
    expect(history.commits.map((x) => [x.sha, x.position, x.files.map((f) => [f.status, f.path])])).toEqual([
      [c.setup, 0, [['A', 'grants/db/alice.yaml']]],
      [c.forged, 2, [['A', 'grants/db/bob.yaml']]],
      [c.colon, 3, [['A', 'grants/db/carol.yaml']]],
      [c.zone, 6, []],
    ]);
    expect(history.commits.map((x) => x.settings)).toEqual([
      git(dir, ['rev-parse', `${c.setup}:grants/_settings.yaml`]).trim(),
      undefined,
      undefined,
      git(dir, ['rev-parse', `${c.zone}:grants/_settings.yaml`]).trim(),
    ]);
    expect(history.commits[0]!.claimed).toBe(Date.parse('2026-08-01T09:00:00Z'));
    // The close's subject as the line's listing gave it: up to its first \x01.
    expect(history.closes).toEqual([
      {
        sha: c.close,
        parents: [c.empty, git(dir, ['rev-parse', 'review']).trim()],
        date: Date.parse('2026-08-07T09:00:00Z'),
        subject: 'Close access review q3: 2026-08 (#4)',
      },
    ]);
  });

  it('takes HEAD and shallowness from the caller when it read them (repositoryStart)', async () => {
    const sub = join(dir, 'grants', 'db');
    const start = await repositoryStart(sub, undefined);
    expect(start).toEqual({
      root: await repositoryRoot(sub, undefined),
      git: { head: c.zone, shallow: false },
    });
    const history = await readHistory(start.root, start.git);
    expect(history.commits.map((x) => x.sha)).toEqual((await readHistory(dir)).commits.map((x) => x.sha));
  });
});

describe('repositoryStart', () => {
  it('says a repository without commits has no HEAD, and finds grants/ outside git', async () => {
    const empty = writeTree({ 'grants/_settings.yaml': 'timezone: UTC\n' });
    git(empty, ['init', '-q', '-b', 'main']);
    expect(await repositoryStart(empty, 'grants')).toEqual({
      root: await repositoryRoot(empty, 'grants'),
      git: { head: null, shallow: false },
    });
    const plain = writeTree({ 'grants/_settings.yaml': 'timezone: UTC\n' });
    mkdirSync(join(plain, 'grants', 'db'));
    expect(await repositoryStart(join(plain, 'grants', 'db'), undefined)).toEqual({ root: plain });
    expect(await repositoryStart(plain, 'missing')).toEqual({ root: join(plain, 'missing') });
  });
});
