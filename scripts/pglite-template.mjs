// Makes the embedded database's template at build time, run by `npm run
// build` after tsc: initdb once here (seconds, about 700 MB of memory), so a
// fresh clone's first apply unpacks this archive instead of running it.
// Writes dist/src/connectors/postgres/pglite-template-<version>.tar.gz;
// skipped when it is there already. src/connectors/postgres/template.ts reads it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { INITDB_ARGS, PGLITE_VERSION } = await import(
  pathToFileURL(join(root, 'dist/src/connectors/postgres/embedded.js')).href
);
const out = join(root, 'dist/src/connectors/postgres', `pglite-template-${PGLITE_VERSION}.tar.gz`);
if (!existsSync(out)) {
  const work = mkdtempSync(join(tmpdir(), 'iden-template-'));
  try {
    const db = await PGlite.create(join(work, 'data'), { initDbStartParams: INITDB_ARGS });
    await db.close();
    // Written beside, then renamed: an interrupted build leaves no half archive to be taken as made.
    writeFileSync(`${out}.partial`, gzipSync(ustar(join(work, 'data'))));
    renameSync(`${out}.partial`, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A folder as a ustar archive of its folders and files (modes kept, owners
 * and times not), written here so the build needs no tar program; any tar
 * reads it.
 */
function ustar(folder) {
  const blocks = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      const rel = relative(folder, path).split('\\').join('/');
      if (stat.isDirectory()) {
        blocks.push(header(`${rel}/`, stat.mode, 0, '5'));
        walk(path);
      } else {
        const body = readFileSync(path);
        blocks.push(header(rel, stat.mode, body.length, '0'), body, Buffer.alloc((512 - (body.length % 512)) % 512));
      }
    }
  };
  walk(folder);
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

function header(name, mode, size, type) {
  if (Buffer.byteLength(name) > 100) throw new Error(`${name}: longer than a ustar name`);
  const h = Buffer.alloc(512);
  const octal = (value, at, width) => h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'ascii');
  h.write(name, 0, 'utf8');
  octal(mode & 0o777, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}
