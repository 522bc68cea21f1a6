import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { packageRoot } from '../../util/package-root.js';

/**
 * The embedded database's template as `npm run build` made it
 * (scripts/pglite-template.mjs): a fresh clone's first apply unpacks it
 * instead of running initdb, which takes seconds and about 700 MB of memory.
 * Undefined where it was not built (running from source): initdb then.
 */
export function shippedTemplate(version: string): string | undefined {
  const file = join(
    packageRoot(),
    'dist',
    'src',
    'connectors',
    'postgres',
    `pglite-template-${version}.tar.gz`,
  );
  return existsSync(file) ? file : undefined;
}

/** Unpacks a gzipped ustar archive of files and folders into `into`; nothing is written outside it. */
export function unpack(archive: string, into: string): void {
  const tar = gunzipSync(readFileSync(archive));
  const root = resolve(into);
  mkdirSync(root, { recursive: true });
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header[0] === 0) break;
    const field = (from: number, length: number) =>
      header
        .subarray(from, from + length)
        .toString('utf8')
        .replace(/\0[\s\S]*$/, '');
    const name = [field(345, 155), field(0, 100)].filter(Boolean).join('/');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const path = resolve(root, name);
    const inside = relative(root, path);
    if (inside.startsWith('..') || resolve(root, inside) !== path)
      throw new Error(`${archive}: ${name} is outside the folder it unpacks into`);
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size), {
        mode: Number.parseInt(field(100, 8).trim() || '600', 8) & 0o777,
      });
    } else throw new Error(`${archive}: ${name} is neither a file nor a folder (type ${type})`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
