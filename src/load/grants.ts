import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../diagnostics.js';
import type { GrantFile } from '../model/files.generated.js';
import { packageRoot } from '../util/package-root.js';
import { loadFile } from './read-file.js';
import type { GrantPath } from './walk.js';

export interface GrantJob {
  paths: GrantPath[];
}

export interface LoadedGrant {
  file: string;
  abs: string;
  folder: string;
  name: string;
  /** Present when the file parsed and passed the grant schema. */
  value: GrantFile | undefined;
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
}

export function loadGrants(job: GrantJob): LoadedGrant[] {
  return job.paths.map(({ file, abs, folder, name }) => {
    const loaded = loadFile(file, abs, 'grant', false);
    return {
      file,
      abs,
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
export async function loadGrantsParallel(paths: GrantPath[], threads?: number): Promise<LoadedGrant[]> {
  const workerFile = join(packageRoot(), 'dist', 'src', 'load', 'grant-worker.js');
  const count = Math.min(threads ?? availableParallelism(), Math.ceil(paths.length / BATCH));
  if (paths.length < PARALLEL_THRESHOLD && threads === undefined) return loadGrants({ paths });
  if (count <= 1 || !existsSync(workerFile)) return loadGrants({ paths });

  const results: LoadedGrant[][] = new Array(Math.ceil(paths.length / BATCH));
  let next = 0;
  const workers = Array.from({ length: count }, () => new Worker(workerFile));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= results.length) return resolve();
              const index = next++;
              worker.once('message', (loaded: LoadedGrant[]) => {
                results[index] = loaded;
                send();
              });
              worker.postMessage({
                paths: paths.slice(index * BATCH, (index + 1) * BATCH),
              } satisfies GrantJob);
            };
            worker.once('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.flat();
}
