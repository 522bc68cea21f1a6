import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../diagnostics.js';
import type { GrantFile } from '../model/files.generated.js';
import { packageRoot } from '../util/package-root.js';
import { loadFile } from './read-file.js';
import { type Tree, WorkTree } from './tree.js';
import type { GrantPath } from './walk.js';

export interface GrantJob {
  /** The work tree's root: worker threads read files from disk. */
  root: string;
  paths: GrantPath[];
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
}

export function loadGrants(tree: Tree, paths: GrantPath[]): LoadedGrant[] {
  return paths.map(({ file, source, folder, name }) => {
    const loaded = loadFile(file, tree, source, 'grant', false);
    return {
      file,
      source,
      folder,
      name,
      value: loaded.value as GrantFile | undefined,
      raw: loaded.raw,
      diagnostics: loaded.diagnostics,
    };
  });
}

/** Below this many files a thread costs more to start than it saves. */
export const PARALLEL_THRESHOLD = 4000;
const BATCH = 1000;

/**
 * Loads grant files, in worker threads on every core when there are many.
 * The YAML parser is most of validate's cost, so this is where cores pay.
 */
export async function loadGrantsParallel(
  tree: Tree,
  paths: GrantPath[],
  threads?: number,
): Promise<LoadedGrant[]> {
  const workerFile = join(packageRoot(), 'dist', 'src', 'load', 'grant-worker.js');
  const count = Math.min(threads ?? availableParallelism(), Math.ceil(paths.length / BATCH));
  const serial =
    !(tree instanceof WorkTree) ||
    (paths.length < PARALLEL_THRESHOLD && threads === undefined) ||
    count <= 1 ||
    !existsSync(workerFile);
  if (serial) {
    await tree.prefetch(paths.map((p) => p.source));
    return loadGrants(tree, paths);
  }

  const results: LoadedGrant[][] = new Array(Math.ceil(paths.length / BATCH));
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
              worker.postMessage({ root: tree.root, paths: batchOf(index) } satisfies GrantJob);
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

type Reply = [valid: boolean, raw: Record<string, unknown> | null, diagnostics: Diagnostic[]][];

function fromReply(batch: GrantPath[], reply: string): LoadedGrant[] {
  return (JSON.parse(reply) as Reply).map(([valid, raw, diagnostics], i) => {
    const { file, source, folder, name } = batch[i]!;
    const value = valid && raw ? (raw as unknown as GrantFile) : undefined;
    return { file, source, folder, name, value, raw: raw ?? undefined, diagnostics };
  });
}
