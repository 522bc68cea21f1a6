import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script shared with the benchmarks
import { generateRepo } from '../../bench/generate.mjs';
import { type CachedGrant, readCache, writeCache } from '../../src/load/cache.js';
import { validateJson } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

/** A repository large enough to keep a parse cache (4,000 grant files or more), with a few problems in it. */
function bigRepo(): string {
  const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-cache-')), {
    people: 1_000,
    apps: 5,
    grants: 4_500,
  });
  rmSync(join(dir, '.generated'));
  writeTree(
    {
      '.gitignore': '.iden/\n',
      'grants/app-001/person-99999.yaml': 'user: person-99999\napp: app-001\npermissions: [ent-1]\n',
      'grants/app-002/person-00100.yaml': 'user: person-00100\napp: app-002\npermissions: [ent-1\n',
    },
    dir,
  );
  return dir;
}

const brief = async (dir: string) =>
  (await validateJson(dir)).json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`);
const cacheFile = (dir: string) => join(dir, '.iden', 'cache', 'grants.json');
/** A grant file of the repository, and the same text with one permission renamed (same size). */
const grantFile = 'grants/app-003/person-00120.yaml';

describe('the parse cache', () => {
  it.each([
    ['in a git work tree', true],
    ['in a folder that is not a git repository', false],
  ])('gives the same diagnostics as no cache, and never misses an edit, %s', async (_, inGit) => {
    const dir = bigRepo();
    if (inGit) commitAll(dir, 'grants');
    const cold = await brief(dir);
    expect(cold).toContain('grants/app-001/person-99999.yaml:1:7 unknown-user');
    expect(cold).toContain('grants/app-002/person-00100.yaml:4:1 yaml-syntax');
    expect(existsSync(cacheFile(dir))).toBe(true);
    expect(await brief(dir)).toEqual(cold);

    // An edit of the same size, made in the same second: the cache must not answer for it.
    const path = join(dir, grantFile);
    const text = readFileSync(path, 'utf8');
    const edited = text.replace(/permissions: \[ent-(\d)/, 'permissions: [xnt-$1');
    expect(edited.length).toBe(text.length);
    writeFileSync(path, edited);
    const afterEdit = await brief(dir);
    expect(afterEdit.filter((d) => d.startsWith(grantFile))).toEqual([
      `${grantFile}:3:15 unknown-permission`,
    ]);
    rmSync(join(dir, '.iden'), { recursive: true });
    expect(await brief(dir)).toEqual(afterEdit);

    // A finding in a file the cache answered for is still placed on its line.
    const people = join(dir, 'grants/_people.yaml');
    writeFileSync(
      people,
      `${readFileSync(people, 'utf8')}  - id: person-00001\n    name: Twin\n    email: twin@example.com\n`,
    );
    await brief(dir);
    const placed = await brief(dir);
    expect(placed).toContain(
      `grants/_people.yaml:${readFileSync(people, 'utf8').split('\n').length - 3}:9 duplicate-id`,
    );
    rmSync(join(dir, '.iden'), { recursive: true });
    expect(await brief(dir)).toEqual(placed);
  });

  it('ignores a cache that is corrupt, of another iden, or committed to the repository', async () => {
    const dir = bigRepo();
    commitAll(dir, 'grants');
    const truth = await brief(dir);
    const good = readFileSync(cacheFile(dir), 'utf8');

    writeFileSync(cacheFile(dir), good.slice(0, good.length / 2));
    expect(await brief(dir)).toEqual(truth);
    writeFileSync(cacheFile(dir), JSON.stringify({ key: 'another iden', rows: [] }));
    expect(await brief(dir)).toEqual(truth);
    writeFileSync(cacheFile(dir), JSON.stringify({ ...JSON.parse(good), rows: [['x', 1, 2, 3, 4]] }));
    expect(await brief(dir)).toEqual(truth);

    // A pull request that commits a cache saying a broken file is fine is not believed.
    const planted = JSON.parse(good) as {
      key: string;
      rows: [string, string, boolean, unknown, unknown[]][];
    };
    const row = planted.rows.find((r) => r[0] === 'grants/app-002/person-00100.yaml')!;
    row[4] = [];
    writeFileSync(cacheFile(dir), JSON.stringify(planted));
    git(dir, ['add', '-f', '.iden/cache/grants.json']);
    git(dir, ['commit', '-q', '-m', 'a cache']);
    // Its findings are the truth's, and the committed state is an error of its own.
    expect(await brief(dir)).toEqual([...truth, '.iden/cache/grants.json:1:1 tracked-state']);
  });

  it('reads every file again where git attributes could change what the work tree holds', async () => {
    const dir = bigRepo();
    commitAll(dir, 'grants');
    const truth = await brief(dir);
    writeFileSync(join(dir, '.gitattributes'), 'grants/** text eol=lf\n');
    const path = join(dir, grantFile);
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(/permissions: \[ent-(\d)/, 'permissions: [xnt-$1'),
    );
    git(dir, ['update-index', '--assume-unchanged', grantFile]);
    const found = await brief(dir);
    expect(found).toHaveLength(truth.length + 1);
    expect(found).toEqual(expect.arrayContaining([...truth, `${grantFile}:3:15 unknown-permission`]));
  });

  it('writes the cache a row to a line, one JSON text, read back a line at a time; a cut or stale file reads as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-cache-rows-'));
    const entries: [string, CachedGrant][] = Array.from({ length: 3_000 }, (_, i) => [
      `grants/app/person-${i}.yaml`,
      {
        hash: `${i}`.padStart(40, '0'),
        valid: i % 7 !== 0,
        raw: i % 7 === 0 ? null : { user: `person-${i}`, reason: `"quoted" \u2028 é ${'x'.repeat(i % 800)}` },
        diagnostics:
          i % 7 === 0
            ? [
                {
                  file: 'f',
                  line: 1,
                  column: 2,
                  severity: 'error' as const,
                  code: 'yaml-syntax' as const,
                  message: 'm',
                },
              ]
            : [],
      },
    ]);
    writeCache(dir, entries);
    const text = readFileSync(join(dir, '.iden', 'cache', 'grants.json'), 'utf8');
    const parsed = JSON.parse(text) as { key: string; rows: unknown[] };
    expect(parsed.rows).toEqual(entries.map(([p, e]) => [p, e.hash, e.valid, e.raw, e.diagnostics]));
    expect(text.split('\n')).toHaveLength(3_002);
    expect([...readCache(dir)]).toEqual(entries);
    const file = join(dir, '.iden', 'cache', 'grants.json');
    // Cut inside the 1 MB read, at a line's end, and after the last row: nothing is taken from it.
    for (const at of [text.length - 3, text.lastIndexOf('\n', 1 << 20), text.length - 2]) {
      writeFileSync(file, text.slice(0, at));
      expect(readCache(dir).size).toBe(0);
    }
    writeFileSync(file, text.replace(parsed.key, 'stale'));
    expect(readCache(dir).size).toBe(0);
    writeCache(dir, []);
    expect(readCache(dir).size).toBe(0);
  });
});
