// Where `iden report --out` writes: a folder it may share with other files (a
// CNAME, a hand-written page). It keeps a list of what it wrote, with each
// file's digest, so that a later report removes only its own stale pages (a
// person who no longer has access keeps no page) and never overwrites a file
// it did not write, or one changed since.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { OperatorError, UsageError } from '../errors.js';

/** The list of what the last report wrote, kept in the folder it wrote to. */
export const MANIFEST = '.iden-report.json';

interface Manifest {
  iden: 'report';
  files: Record<string, string>;
}

const digest = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function readManifest(out: string): Record<string, string> {
  const path = join(out, MANIFEST);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (parsed.iden === 'report' && parsed.files && typeof parsed.files === 'object') return parsed.files;
  } catch {}
  throw new OperatorError(`${path} is not a list iden report wrote: remove it, or give --out another folder`);
}

/** Is the file at `path` exactly what the last report wrote there? */
function ours(out: string, path: string, previous: Record<string, string>): boolean {
  const expected = previous[path];
  if (expected === undefined) return false;
  try {
    return digest(readFileSync(join(out, path))) === expected;
  } catch {
    return false;
  }
}

/** The last report's manifest in `out` (none: nothing there is ours); `out` must be a folder. */
function previousReport(out: string): Record<string, string> {
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new UsageError(`--out ${out}: a file, not a folder; give a folder for the report's pages`);
  return existsSync(out) ? readManifest(out) : {};
}

/** Refuses, before anything is written, to replace a file the last report did not write. */
function refuseForeign(out: string, paths: string[], previous: Record<string, string>): void {
  const foreign = paths.filter((path) => existsSync(join(out, path)) && !ours(out, path, previous));
  if (foreign.length > 0)
    throw new OperatorError(
      `${out} has files iden report did not write (or that changed since): ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? `, and ${foreign.length - 5} more` : ''}; nothing was written: give --out an empty or new folder, or one an earlier report wrote`,
    );
}

/**
 * Once the pages are in place: removes what the last report wrote and this
 * one did not (a folder it emptied too; one holding anything else stays),
 * writes the new manifest, and returns what it removed.
 */
function settle(out: string, previous: Record<string, string>, files: Record<string, string>): string[] {
  const removed: string[] = [];
  for (const path of Object.keys(previous).sort()) {
    if (path in files || !ours(out, path, previous)) continue;
    rmSync(join(out, path));
    removed.push(path);
    if (dirname(path) !== '.')
      try {
        rmdirSync(dirname(join(out, path)));
      } catch {}
  }
  const manifest: Manifest = { iden: 'report', files };
  writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return removed;
}

/**
 * Writes `pages` (path relative to `out` → text) into `out`: nothing at all when
 * a page would replace a file this report did not write; then removes the pages
 * the last report wrote that this one does not. Returns what it removed.
 */
export function writeSiteFolder(out: string, pages: ReadonlyMap<string, string>): { removed: string[] } {
  const previous = previousReport(out);
  refuseForeign(out, [...pages.keys()], previous);
  const files: Record<string, string> = {};
  for (const [path, text] of pages) {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), text);
    files[path] = digest(text);
  }
  return { removed: settle(out, previous, files) };
}

/**
 * The same rules for a report too large to hold: each page is written as it is
 * made into a staging folder beside `out`, and only when every page is made are
 * they checked (no file this report did not write is replaced, or nothing is)
 * and moved into place. Returns the writer and what finishing did.
 */
export function siteFolderWriter(out: string): {
  write: (path: string, text: string) => void;
  finish: () => { written: string[]; removed: string[] };
} {
  const previous = previousReport(out);
  const staging = `${out.replace(/[\\/]+$/, '')}.iden-staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const files: Record<string, string> = {};
  const made = new Set<string>();
  const write = (path: string, text: string) => {
    const dir = dirname(join(staging, path));
    if (!made.has(dir)) mkdirSync(dir, { recursive: true });
    made.add(dir);
    writeFileSync(join(staging, path), text);
    files[path] = digest(text);
  };
  const finish = () => {
    try {
      const written = Object.keys(files);
      refuseForeign(out, written, previous);
      const placed = new Set<string>();
      for (const path of written) {
        const dir = dirname(join(out, path));
        if (!placed.has(dir)) mkdirSync(dir, { recursive: true });
        placed.add(dir);
        renameSync(join(staging, path), join(out, path));
      }
      return { written, removed: settle(out, previous, files) };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  };
  return { write, finish };
}
