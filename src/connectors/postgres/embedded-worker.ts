import { parentPort } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';

// The embedded PostgreSQL (PGlite) runs in its own thread: when a write fails
// underneath it (a full disk, a file size limit, a read-only folder) PGlite can
// spin without yielding, and only a thread can be stopped from outside.
let db: PGlite | undefined;

type Request =
  | {
      id: number;
      op: 'open';
      dataDir: string;
      initdbArgs: string[];
      /** Settings for every start, over what the folder's postgresql.conf says. */
      startArgs: string[];
      /** Compiled once by the main thread and shared by every database's thread. */
      modules: { pglite: unknown; initdb: unknown; bundle: Uint8Array };
    }
  | { id: number; op: 'query'; sql: string; params?: unknown[] }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'close' };

parentPort?.on('message', async (request: Request) => {
  try {
    if (request.op === 'open') {
      const { PGlite } = await import('@electric-sql/pglite');
      const { pglite, initdb, bundle } = request.modules;
      db = await PGlite.create(request.dataDir, {
        initDbStartParams: request.initdbArgs,
        startParams: [...PGlite.defaultStartParams, ...request.startArgs],
        pgliteWasmModule: pglite as never,
        initdbWasmModule: initdb as never,
        fsBundle: new Blob([bundle]),
      });
      parentPort?.postMessage({ id: request.id, ok: true, rows: [] });
    } else if (request.op === 'query') {
      const result = await db!.query(request.sql, request.params);
      parentPort?.postMessage({ id: request.id, ok: true, rows: result.rows });
    } else if (request.op === 'exec') {
      await db!.exec(request.sql);
      parentPort?.postMessage({ id: request.id, ok: true, rows: [] });
    } else {
      await db?.close();
      db = undefined;
      parentPort?.postMessage({ id: request.id, ok: true, rows: [] });
    }
  } catch (e) {
    const { message, code, name } = (e ?? {}) as { message?: string; code?: string; name?: string };
    const text = message ?? (typeof e === 'object' ? JSON.stringify(e) : String(e));
    parentPort?.postMessage({ id: request.id, ok: false, error: { message: text, code, name } });
  }
});
