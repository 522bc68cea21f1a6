// The parse cache of a large repository: each grant file's parsed and
// schema-checked value, keyed by its path and the SHA-1 of its bytes, in
// .iden/cache/grants.json. A file is taken from the cache only when its bytes
// hash to what the cache holds, so an edit is never missed; the whole cache is
// dropped when iden, its schemas or its parser change. A cache that is
// unreadable, of another shape, or committed to git (a pull request could plant
// one) is ignored, never fatal; one that cannot be written is simply not kept.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { tracksState } from '../git/state.js';

import { vouchedByGit } from '../git/vouched.js';

import type { Diagnostic } from '../model/diagnostics.js';
import { batched, writePieces } from '../util/json-stream.js';
import { idenVersion, packageRoot } from '../util/package-root.js';

export interface CachedGrant {
  hash: string;
  /** The file passed its schema: `raw` is its value. */
  valid: boolean;
  raw: Record<string, unknown> | null;
  diagnostics: Diagnostic[];
}

type Row = [
  path: string,
  hash: string,
  valid: boolean,
  raw: Record<string, unknown> | null,
  diagnostics: Diagnostic[],
];

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

/** What the cached values depend on: iden's version, the grant schema, and the code that reads a file. */
function cacheKey(): string {
  const hash = createHash('sha1').update(idenVersion());
  hash.update(readFileSync(join(packageRoot(), 'schemas', 'grant.schema.json')));
  for (const name of ['fast-yaml', 'parse-yaml', 'read-file'])
    hash.update(readFileSync(join(here, `${name}.${ext}`)));
  return hash.digest('hex');
}

/** What loading a file gives, as far as the cache keeps it. */
interface Loaded {
  value: unknown;
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
}

/** A cached entry as a loaded file: its value when it passed its schema, and a copy of its findings. */
export function fromCached(hit: CachedGrant): {
  valid: boolean;
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
} {
  return { valid: hit.valid, raw: hit.raw ?? undefined, diagnostics: [...hit.diagnostics] };
}

const NONE: Diagnostic[] = Object.freeze([]) as unknown as Diagnostic[];

/** The id git gives these bytes as a blob: the same key whether a file was read or git vouched for it. */
export const contentHash = (bytes: Uint8Array): string =>
  createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

const fileOf = (root: string) => join(root, '.iden', 'cache', 'grants.json');

/**
 * The cache of a repository, or an empty one. Read a line (a row) at a time:
 * a million rows are a text of some 200 MB, never held whole.
 */
export function readCache(root: string): Map<string, CachedGrant> {
  const cache = new Map<string, CachedGrant>();
  let fd: number;
  try {
    fd = openSync(fileOf(root), 'r');
  } catch {
    return cache;
  }
  try {
    const lines = linesOf(fd);
    if (lines.next().value !== `{"key":${JSON.stringify(cacheKey())},"rows":[` || tracksState(root))
      return cache;
    let ended = false;
    for (const line of lines) {
      if (ended) return new Map();
      if (line === ']}') {
        ended = true;
        continue;
      }
      const row = JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as unknown;
      if (!Array.isArray(row) || row.length !== 5) return new Map();
      const [path, hash, valid, raw, diagnostics] = row as Row;
      if (typeof path !== 'string' || typeof hash !== 'string' || typeof valid !== 'boolean')
        return new Map();
      if ((raw !== null && typeof raw !== 'object') || !Array.isArray(diagnostics)) return new Map();
      if (valid && raw === null) return new Map();
      cache.set(path, { hash, valid, raw, diagnostics: diagnostics.length === 0 ? NONE : diagnostics });
    }
    return ended ? cache : new Map();
  } catch {
    return new Map();
  } finally {
    closeSync(fd);
  }
}

/** A file's lines, read a megabyte at a time. */
function* linesOf(fd: number): Generator<string> {
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let rest = '';
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    const text = rest + decoder.write(buffer.subarray(0, n));
    const lines = text.split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}

/**
 * One run's use of the parse cache: what it held, what git vouches for, and
 * what the next run will find (only the files this run read).
 */
export class ParseCache {
  private readonly next = new Map<string, CachedGrant>();
  private changed: boolean;

  private constructor(
    readonly root: string,
    private readonly held: Map<string, CachedGrant>,
    private readonly vouched: Map<string, string> | undefined,
  ) {
    this.changed = false;
  }

  static async open(root: string): Promise<ParseCache> {
    const vouched = vouchedByGit(root);
    const held = readCache(root);
    return new ParseCache(root, held, await vouched);
  }

  /** The blob id git vouches a file at this path has (a symbolic link's target never is). */
  vouchedId(file: string, source: string): string | null {
    return source === file ? (this.vouched?.get(file) ?? null) : null;
  }

  /** The cached entry of a file whose bytes have this blob id, kept for the next run; undefined on a miss. */
  hit(file: string, id: string | null): CachedGrant | undefined {
    const held = this.held.get(file);
    if (id === null || held?.hash !== id) return undefined;
    this.next.set(file, held);
    return held;
  }

  /** The blob id the cache holds for a file, if any. */
  heldId(file: string): string | null {
    return this.held.get(file)?.hash ?? null;
  }

  /** Records what reading a file gave (nothing when it could not be read, `hash` undefined: the next run tries it again). */
  put(file: string, hash: string | null | undefined, loaded: Loaded): void {
    this.changed = true;
    if (hash === null || hash === undefined) return;
    this.next.set(file, {
      hash,
      valid: loaded.value !== undefined,
      raw: loaded.raw ?? null,
      // Read only by copying (fromCached): a file without findings shares one empty list.
      diagnostics: loaded.diagnostics.length === 0 ? NONE : [...loaded.diagnostics],
    });
  }

  /** Writes the cache when anything changed or a file is gone. */
  save(): void {
    if (this.changed || this.next.size !== this.held.size) writeCache(this.root, this.next);
  }
}

/** Keeps the cache for the next run: written to a temporary file and renamed, so a reader never sees half of it. */
export function writeCache(root: string, entries: Iterable<[string, CachedGrant]>): void {
  const file = fileOf(root);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Row by row, in pieces: a million rows as one text would be a few hundred megabytes at once.
    writePieces(temporary, batched(cacheText(entries), 1 << 16, ''));
    renameSync(temporary, file);
  } catch {
    rmSync(temporary, { force: true });
  }
}

/** The cache's text, `{"key":…,"rows":[…]}`, a row to a line so it can be read a row at a time. */
function* cacheText(entries: Iterable<[string, CachedGrant]>): Generator<string> {
  yield `{"key":${JSON.stringify(cacheKey())},"rows":[`;
  let first = true;
  for (const [path, e] of entries) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify([path, e.hash, e.valid, e.raw, e.diagnostics] satisfies Row)}`;
    first = false;
  }
  yield '\n]}';
}
