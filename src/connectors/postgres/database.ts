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

export interface ServerDatabase extends Database {
  /** Runs `fn` on a connection of its own, kept open (and what it took, such as a session lock, held) until the returned release. */
  hold(fn: (query: Query) => Promise<void>): Promise<() => Promise<void>>;
}

export function serverDatabase(url: string, max: number): ServerDatabase {
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
    async hold(fn) {
      const client = await pool.connect();
      try {
        await fn(run(client));
      } catch (e) {
        client.release(true);
        throw e;
      }
      // Ending the connection ends its session, and with it any session lock.
      return async () => client.release(true);
    },
    close: () => pool.end(),
  };
}
