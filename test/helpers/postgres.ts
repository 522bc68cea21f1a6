import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { inject } from 'vitest';

/** Gives an app of a test repository an initialised embedded database, as a first run would leave it. */
export function seedEmbedded(repo: string, app: string): string {
  const dir = join(repo, '.iden', 'pglite', app);
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  return dir;
}

/** A PGlite copy served over the PostgreSQL wire protocol on loopback, for the pg (server) path. */
export async function startServer(
  dataDir: string,
): Promise<{ url: string; db: PGlite; connections: () => number; stop: () => Promise<void> }> {
  cpSync(inject('pgliteTemplate'), dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    db,
    /** Sessions open on the wire: a killed client's is closed, and its transaction rolled back, once this drops. */
    connections: () => server.getStats().activeConnections,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
