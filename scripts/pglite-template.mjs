// Makes the embedded database's template at build time, run by `npm run
// build` after tsc: initdb once here (seconds, about 700 MB of memory), so a
// fresh clone's first apply unpacks this archive instead of running it.
// Writes dist/src/connectors/postgres/pglite-template-<version>.tar.gz;
// skipped when it is there already. src/connectors/postgres/template.ts reads it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
    // ustar: names and sizes only, read back by template.ts; owners left out.
    execFileSync('tar', [
      '--format=ustar',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-czf',
      out,
      '-C',
      join(work, 'data'),
      '.',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
