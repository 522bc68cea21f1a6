import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../model/diagnostics.js';
import type { GrantFile } from '../model/files.generated.js';
import { packageRoot } from '../util/package-root.js';
import { type CachedGrant, contentHash, type ParseCache } from './cache.js';
import { loadBytes, readBytes } from './read-file.js';
import { type Tree, WorkTree } from './tree.js';
import type { GrantPath } from './walk.js';

export interface GrantJob {
  /** The work tree's root: worker threads read files from disk. */
  root: string;
  paths: GrantPath[];
  /** With the parse cache: each file's cached blob id (null: not cached). */
  hashes?: (string | null)[] | undefined;
  /** Blob ids git vouches for, so the file need not be hashed (null: hash what is read). */
  known?: (string | null)[] | undefined;
}

export interface LoadedGrant {
  file: string;
  source: string;
  folder: string;
  name: string;
  /** Present when the file parsed and passed the grant schema. */
  value: GrantFile | undefined;
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
  /** The blob id of its bytes, when the parse cache is in use. */
  hash?: string;
}

/**
 * Reads and checks grant files. With `hashes` (the parse cache's), each file's
 * bytes are hashed (or its blob id taken from `known`), and a file whose id is
 * the cached one is not parsed: its entry is null, for the caller to take
 * from the cache.
 */
export function loadGrants(
  tree: Tree,
  paths: GrantPath[],
  hashes?: (string | null)[],
  known?: (string | null)[],
): (LoadedGrant | null)[] {
  return paths.map(({ file, source, folder, name }, i) => {
    const bytes = readBytes(tree, source, 'grant');
    const hash = !hashes || bytes instanceof Error ? undefined : (known?.[i] ?? contentHash(bytes));
    if (hash !== undefined && hash === hashes?.[i]) return null;
    const loaded = loadBytes(file, bytes, 'grant', false);
    return {
      file,
      source,
      folder,
      name,
      value: loaded.value as GrantFile | undefined,
      raw: loaded.raw,
      diagnostics: loaded.diagnostics,
      ...(hash !== undefined ? { hash } : {}),
    };
  });
}

/** Below this many files a thread costs more to start than it saves; from this many a work tree keeps a parse cache. */
export const PARALLEL_THRESHOLD = 4000;
const BATCH = 1000;
/** Files read from git per cat-file batch. */
const SLICE = 20_000;

/**
 * Loads grant files, in worker threads on every core when there are many.
 * With the parse cache (cache.ts), a file git vouches is unchanged and that
 * the cache holds by its blob id is not even read; any other file is read,
 * and parsed only when its blob id is not the cached one.
 */
export async function loadGrantsParallel(
  tree: Tree,
  paths: GrantPath[],
  threads?: number,
  cache?: ParseCache,
): Promise<LoadedGrant[]> {
  if (!cache) return (await load(tree, paths, threads)) as LoadedGrant[];
  const result: LoadedGrant[] = new Array(paths.length);
  const fromHit = (i: number, hit: CachedGrant) => {
    const { file, source, folder, name } = paths[i]!;
    const raw = hit.raw ?? undefined;
    const value = hit.valid ? (raw as unknown as GrantFile) : undefined;
    result[i] = { file, source, folder, name, value, raw, diagnostics: hit.diagnostics };
  };
  const keys = paths.map((p) => cache.vouchedId(p.file, p.source));
  const todo: number[] = [];
  for (const [i, p] of paths.entries()) {
    const hit = cache.hit(p.file, keys[i]!);
    if (hit) fromHit(i, hit);
    else todo.push(i);
  }
  const loaded = await load(
    tree,
    todo.map((i) => paths[i]!),
    threads,
    todo.map((i) => cache.heldId(paths[i]!.file)),
    todo.map((i) => keys[i]!),
  );
  for (const [j, grant] of loaded.entries()) {
    const i = todo[j]!;
    const { file } = paths[i]!;
    if (grant === null) {
      fromHit(i, cache.hit(file, cache.heldId(file))!);
      continue;
    }
    result[i] = grant;
    cache.put(file, grant.hash, grant);
  }
  return result;
}

/** Loads files in this thread, or in worker threads when there are many. */
async function load(
  tree: Tree,
  paths: GrantPath[],
  threads: number | undefined,
  hashes?: (string | null)[],
  known?: (string | null)[],
): Promise<(LoadedGrant | null)[]> {
  const workerFile = join(packageRoot(), 'dist', 'src', 'load', 'grant-worker.js');
  const count = Math.min(threads ?? availableParallelism(), Math.ceil(paths.length / BATCH));
  const serial =
    !(tree instanceof WorkTree) ||
    (paths.length < PARALLEL_THRESHOLD && threads === undefined) ||
    count <= 1 ||
    !existsSync(workerFile);
  if (serial) {
    if (!tree.release) {
      await tree.prefetch(paths.map((p) => p.source));
      return loadGrants(tree, paths, hashes, known);
    }
    // From git: a slice at a time, its bytes let go once parsed, so a million
    // files are never all in memory as bytes at once.
    const out: (LoadedGrant | null)[] = [];
    for (let i = 0; i < paths.length; i += SLICE) {
      const slice = paths.slice(i, i + SLICE);
      const sources = slice.map((p) => p.source);
      await tree.prefetch(sources);
      out.push(...loadGrants(tree, slice, hashes?.slice(i, i + SLICE), known?.slice(i, i + SLICE)));
      tree.release(sources);
    }
    return out;
  }
  return inWorkers(tree, paths, count, hashes, known);
}

async function inWorkers(
  tree: Tree,
  paths: GrantPath[],
  count: number,
  hashes: (string | null)[] | undefined,
  known: (string | null)[] | undefined,
): Promise<(LoadedGrant | null)[]> {
  const workerFile = join(packageRoot(), 'dist', 'src', 'load', 'grant-worker.js');
  const results: (LoadedGrant | null)[][] = new Array(Math.ceil(paths.length / BATCH));
  let next = 0;
  const batchOf = (index: number) => paths.slice(index * BATCH, (index + 1) * BATCH);
  const workers = Array.from(
    { length: count },
    // A small old generation makes each thread collect as it goes, which keeps the peak memory down.
    () =>
      new Worker(workerFile, {
        resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 },
      }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            // Two batches in flight per thread, so a thread never waits for the main thread's reply.
            const pending: number[] = [];
            const send = () => {
              if (next >= results.length) return;
              const index = next++;
              pending.push(index);
              worker.postMessage({
                root: tree.root,
                paths: batchOf(index),
                hashes: hashes?.slice(index * BATCH, (index + 1) * BATCH),
                known: known?.slice(index * BATCH, (index + 1) * BATCH),
              } satisfies GrantJob);
            };
            worker.on('message', (reply: string) => {
              const index = pending.shift()!;
              results[index] = fromReply(batchOf(index), reply);
              send();
              if (pending.length === 0) resolve();
            });
            worker.once('error', reject);
            send();
            send();
            if (pending.length === 0) resolve();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.flat();
}

/** Per file: 0 when the cache holds it unchanged, else what loading it gave. */
export type Reply = (
  | 0
  | [valid: boolean, raw: Record<string, unknown> | null, diagnostics: Diagnostic[], hash: string | null]
)[];

function fromReply(batch: GrantPath[], reply: string): (LoadedGrant | null)[] {
  return (JSON.parse(reply) as Reply).map((entry, i) => {
    if (entry === 0) return null;
    const [valid, raw, diagnostics, hash] = entry;
    const { file, source, folder, name } = batch[i]!;
    const value = valid && raw ? (raw as unknown as GrantFile) : undefined;
    return {
      file,
      source,
      folder,
      name,
      value,
      raw: raw ?? undefined,
      diagnostics,
      ...(hash ? { hash } : {}),
    };
  });
}
