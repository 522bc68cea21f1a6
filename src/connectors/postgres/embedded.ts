import { randomUUID } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { userCacheDir } from '../../util/cache-dir.js';
import { packageRoot } from '../../util/package-root.js';
import type { Database, Query, Script } from './database.js';
import { shippedTemplate, unpack } from './template.js';

/** The embedded database stopped answering, or cannot write: nothing more is tried in it this run. */
export class EmbeddedStoppedError extends Error {
  override readonly name = 'EmbeddedStoppedError';
}

/** The PGlite the template was made with: a new version makes a new template. */
export const PGLITE_VERSION = '0.5.14';
/**
 * 16 MB of shared buffers instead of initdb's 128 MB: PGlite touches them all
 * at start, about 115 MB of memory per database, and iden's few role tables
 * fit many times over. Written by initdb, and given at every start so folders
 * made before (whose postgresql.conf says 128 MB) get it too.
 */
const SHARED_BUFFERS = 'shared_buffers=16MB';
/** WAL in 1 MB segments: each embedded database takes about 30 MB instead of 40. */
export const INITDB_ARGS = ['--wal-segsize=1', `--set=${SHARED_BUFFERS}`];
const START_ARGS = ['-c', SHARED_BUFFERS];
/** Room the database needs to write safely: more than one WAL segment and its checkpoints. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

export interface EmbeddedOptions {
  /** How long one statement may take before the database is taken to have stopped. */
  timeoutMs: number;
  /** How long creating a database from nothing may take (initdb, once per machine). */
  initTimeoutMs?: number;
}

/**
 * Checks, before anything is written, that the folder can take writes: it is
 * writable, has room, and a write past a WAL segment's size succeeds (a
 * process file-size limit fails it). A database that cannot write fails here,
 * fast and clear, instead of inside PGlite.
 */
export function preflight(dataDir: string): void {
  const folder = existsSync(dataDir) ? dataDir : dirname(dataDir);
  mkdirSync(folder, { recursive: true });
  const probe = join(folder, '.iden-write-probe');
  try {
    const { bavail, bsize } = statfsSync(folder);
    if (bavail * bsize < MIN_FREE_BYTES)
      throw Object.assign(new Error(`only ${Math.floor((bavail * bsize) / 1024 / 1024)} MB free`), {
        code: 'ENOSPC',
      });
    const fd = openSync(probe, 'w');
    try {
      // One byte past 17 MB: sparse, so it costs a block, but a file-size limit refuses it.
      writeSync(fd, Buffer.from([0]), 0, 1, 17 * 1024 * 1024);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const { code, message } = e as NodeJS.ErrnoException;
    throw new EmbeddedStoppedError(
      `cannot write the embedded database in ${folder}: ${code ?? ''} ${message} (is the disk full, the folder read-only, or a file size limit set?)`.replace(
        '  ',
        ' ',
      ),
    );
  } finally {
    rmSync(probe, { force: true });
  }
}

/**
 * A fresh database is a copy of a template made once per machine in the
 * user's cache (else once per clone, beside its databases): unpacked from the
 * one built with iden, or, without it, initialised (initdb takes seconds and
 * about 700 MB of memory). A copy takes a fraction of a second, less than
 * unpacking; it is made beside, then renamed, so a folder with PG_VERSION is
 * always whole.
 */
async function fromTemplate(dataDir: string, options: EmbeddedOptions): Promise<void> {
  const name = `pglite-template-${PGLITE_VERSION}`;
  let template: string;
  try {
    template = await ensureTemplate(join(userCacheDir(), name), options);
  } catch {
    template = await ensureTemplate(join(dirname(dataDir), `.${name}`), options);
  }
  const partial = `${dataDir}.copying`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(join(template, 'data'), partial, { recursive: true });
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(partial, dataDir);
}

/** Templates being made in this process: apps opened side by side wait for the one template. */
const making = new Map<string, Promise<string>>();

/**
 * The template at `template`, made if missing in a folder of this process's
 * own and renamed into place: runs making it at once (two clones, two CI jobs
 * on one runner) never see a half-made one.
 */
function ensureTemplate(template: string, options: EmbeddedOptions): Promise<string> {
  if (existsSync(join(template, '.complete'))) return Promise.resolve(template);
  let made = making.get(template);
  if (!made) {
    made = (async () => {
      const building = `${template}.${process.pid}-${randomUUID()}`;
      try {
        mkdirSync(building, { recursive: true });
        const shipped = shippedTemplate(PGLITE_VERSION);
        if (shipped) unpack(shipped, join(building, 'data'));
        else {
          const db = await startWorker(
            join(building, 'data'),
            { ...options, timeoutMs: options.initTimeoutMs ?? 300_000 },
            false,
          );
          await db.close();
        }
        writeFileSync(join(building, '.complete'), '');
        // A folder left by a run killed before the rename is never complete: this one replaces it.
        if (existsSync(template) && !existsSync(join(template, '.complete')))
          rmSync(template, { recursive: true, force: true });
        try {
          renameSync(building, template);
        } catch (e) {
          // Another run renamed its own into place first: the same template.
          if (!existsSync(join(template, '.complete'))) throw e;
        }
        return template;
      } finally {
        rmSync(building, { recursive: true, force: true });
      }
    })().finally(() => making.delete(template));
    making.set(template, made);
  }
  return made;
}

let modules: Promise<{ pglite: unknown; initdb: unknown; bundle: Uint8Array }> | undefined;
/** The runtime's WebAssembly (TypeScript's lib for Node leaves it out). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } })
  .WebAssembly;

/**
 * PGlite's WebAssembly, compiled once per process and shared by every
 * database's thread. `lean`: by V8's baseline compiler only, as iden's
 * statements are few and small and optimising PostgreSQL's hot functions a
 * second time costs about 70 MB a process; not when the process first makes
 * the template, which initdb would take more than twice as long to do.
 */
function compiled(lean: boolean) {
  modules ??= (async () => {
    if (lean) setFlagsFromString('--liftoff-only');
    const dist = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
    const [pglite, initdb] = await Promise.all(
      ['pglite.wasm', 'initdb.wasm'].map(async (name) => wasm.compile(await readFile(join(dist, name)))),
    );
    return {
      pglite: pglite!,
      initdb: initdb!,
      bundle: new Uint8Array(await readFile(join(dist, 'pglite.data'))),
    };
  })();
  return modules;
}

/** PGlite in a folder of the repository, in a thread of its own, each statement under a watchdog. */
export async function embeddedDatabase(dataDir: string, options: EmbeddedOptions): Promise<Database> {
  preflight(dataDir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await fromTemplate(dataDir, options);
  return startWorker(dataDir, options, true);
}

async function startWorker(dataDir: string, options: EmbeddedOptions, lean: boolean): Promise<Database> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const worker = new Worker(
    join(packageRoot(), 'dist', 'src', 'connectors', 'postgres', 'embedded-worker.js'),
  );
  worker.unref();
  const pending = new Map<
    number,
    { resolve: (rows: unknown[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  let stopped: Error | undefined;
  let next = 0;
  const stop = (error: Error) => {
    if (stopped) return;
    stopped = error;
    void worker.terminate();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    pending.clear();
  };
  worker.on(
    'message',
    (reply: {
      id: number;
      ok: boolean;
      rows?: unknown[];
      error?: { message: string; code?: string; name?: string };
    }) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      clearTimeout(p.timer);
      if (reply.ok) p.resolve(reply.rows ?? []);
      else if (reply.error?.name === 'RuntimeError' || /^Aborted\(/.test(reply.error?.message ?? '')) {
        const error = new EmbeddedStoppedError(
          `the embedded database in ${dataDir} stopped: ${reply.error?.message}`,
        );
        p.reject(error);
        stop(error);
      } else p.reject(Object.assign(new Error(reply.error?.message), { code: reply.error?.code }));
    },
  );
  worker.on('error', (e) =>
    stop(new EmbeddedStoppedError(`the embedded database in ${dataDir} stopped: ${e.message}`)),
  );
  worker.on('exit', () => stop(new EmbeddedStoppedError(`the embedded database in ${dataDir} stopped`)));
  const call = (message: object, timeoutMs: number): Promise<unknown[]> => {
    if (stopped) return Promise.reject(stopped);
    const id = next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          stop(
            new EmbeddedStoppedError(
              `the embedded database in ${dataDir} stopped answering after ${Math.round(timeoutMs / 1000)} s; a write under it may have failed (a full disk, a file size limit, a read-only folder)`,
            ),
          ),
        timeoutMs,
      );
      pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, ...message });
    });
  };
  try {
    await call(
      { op: 'open', dataDir, initdbArgs: INITDB_ARGS, startArgs: START_ARGS, modules: await compiled(lean) },
      options.initTimeoutMs ?? 300_000,
    );
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const query: Query = async <T>(sql: string, params?: unknown[]) =>
    (await call({ op: 'query', sql, params }, options.timeoutMs)) as T[];
  const script: Script = async (sql) => {
    await call({ op: 'exec', sql }, options.timeoutMs);
  };
  // One connection: a transaction holds it until it ends, and statements wait their turn.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
  return {
    query: (sql, params) => exclusive(() => query(sql, params)),
    transaction: (fn) =>
      exclusive(async () => {
        await query('BEGIN');
        try {
          const result = await fn(query, script);
          await query('COMMIT');
          return result;
        } catch (e) {
          if (!(e instanceof EmbeddedStoppedError)) await query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }),
    close: async () => {
      if (stopped) return;
      try {
        await call({ op: 'close' }, options.timeoutMs);
      } finally {
        await worker.terminate();
      }
    },
  };
}
