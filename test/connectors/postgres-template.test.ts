import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { PGLITE_VERSION } from '../../src/connectors/postgres/embedded.js';
import { shippedTemplate, unpack } from '../../src/connectors/postgres/template.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { NOW } from '../helpers/pg-repo.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

/** A ustar archive of one file, named as given (the reader checks names, not checksums). */
function archive(name: string, text: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write(`${Buffer.byteLength(text).toString(8).padStart(11, '0')}\0`, 124);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(text) / 512) * 512);
  body.write(text);
  return gzipSync(Buffer.concat([header, body, Buffer.alloc(1024)]));
}

describe('the embedded database template built with iden', () => {
  it('is built by npm run build, and unpacks into a database PGlite opens', async () => {
    const shipped = shippedTemplate(PGLITE_VERSION);
    expect(shipped, 'npm run build makes it').toBeDefined();
    const dir = join(mkdtempSync(join(tmpdir(), 'iden-template-')), 'data');
    unpack(shipped!, dir);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    const db = await PGlite.create(dir);
    try {
      expect((await db.query<{ sb: string }>("SELECT current_setting('shared_buffers') AS sb")).rows).toEqual(
        [{ sb: '16MB' }],
      );
    } finally {
      await db.close();
    }
  });

  const repository = () => {
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': `timezone: UTC\n${NO_VERIFY}`,
      'grants/_people.yaml': 'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n',
      'grants/db/_app.yaml':
        'name: Warehouse\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: wh_read }\n',
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\n',
    });
    commitAll(dir, 'access');
    return dir;
  };
  const withCache = async <T>(cache: string, work: () => Promise<T>): Promise<T> => {
    const before = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      return await work();
    } finally {
      if (before === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = before;
    }
  };

  it('makes a clone’s database without initdb, from one template per machine in the user’s cache', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'iden-cache-'));
    const template = join(cache, 'iden', `pglite-template-${PGLITE_VERSION}`);
    await withCache(cache, async () => {
      const first = repository();
      const run = await runCli(['reconcile', '--repo', first, '--yes', '--no-push', '--at', NOW]);
      expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(readdirSync(join(first, '.iden', 'pglite'))).toEqual(['db']);
      expect(existsSync(join(template, '.complete'))).toBe(true);
      // A second clone copies the same template: it is not made again.
      const made = statSync(join(template, '.complete')).mtimeMs;
      const second = repository();
      const again = await runCli(['reconcile', '--repo', second, '--yes', '--no-push', '--at', NOW]);
      expect(again.stdout).toContain('Applied: 1 granted');
      expect(statSync(join(template, '.complete')).mtimeMs).toBe(made);
      expect(readdirSync(join(cache, 'iden'))).toEqual([`pglite-template-${PGLITE_VERSION}`]);
    });
  });

  it('keeps the template beside the databases when the user’s cache cannot be written', async () => {
    // The cache "folder" is a file: nothing can be made under it.
    const cache = join(mkdtempSync(join(tmpdir(), 'iden-cache-')), 'a-file');
    writeFileSync(cache, '');
    await withCache(cache, async () => {
      const dir = repository();
      const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push', '--at', NOW]);
      expect(run.stdout).toContain('Applied: 1 granted');
      expect(readdirSync(join(dir, '.iden', 'pglite')).sort()).toEqual([
        `.pglite-template-${PGLITE_VERSION}`,
        'db',
      ]);
    });
  });

  it('refuses an archive entry outside the folder it unpacks into', () => {
    const work = mkdtempSync(join(tmpdir(), 'iden-template-'));
    writeFileSync(join(work, 'evil.tar.gz'), archive('../evil', 'x'));
    expect(() => unpack(join(work, 'evil.tar.gz'), join(work, 'data'))).toThrow(
      /\.\.\/evil is outside the folder it unpacks into/,
    );
    expect(existsSync(join(work, 'evil'))).toBe(false);
  });
});
