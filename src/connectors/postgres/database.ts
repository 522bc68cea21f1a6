import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';

export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/** The little the connector needs from a database, over pg or an embedded PGlite. */
export interface Database {
  query: Query;
  transaction<T>(fn: (query: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function quoteIdent(name: string): string {
  return pg.escapeIdentifier(name);
}

export function serverDatabase(url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // An idle client's error (a server restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const run =
    (client: pg.Pool | pg.PoolClient): Query =>
    async <T>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as T[];
  return {
    query: run(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(run(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** PGlite in a folder of the repository: PostgreSQL with no server and no credentials. */
export async function embeddedDatabase(dataDir: string): Promise<Database> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir);
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    transaction: (fn) =>
      db.transaction((tx) =>
        fn(async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows),
      ),
    close: () => db.close(),
  };
}
