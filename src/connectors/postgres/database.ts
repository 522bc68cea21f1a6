import { hostname } from 'node:os';
import { basename } from 'node:path';
import pg from 'pg';

export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/**
 * Runs statements without parameters, separated by semicolons, in one round
 * trip (the simple query protocol): the server runs them in order and stops
 * at the first that fails. Each is still bounded by statement_timeout
 * (PostgreSQL 13 and later time each statement of a string on its own).
 */
export type Script = (sql: string) => Promise<void>;

/** The little the connector needs from a database, over pg or an embedded PGlite. */
export interface Database {
  query: Query;
  transaction<T>(fn: (query: Query, script: Script) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function quoteIdent(name: string): string {
  return pg.escapeIdentifier(name);
}

/** How iden talks to a server: every wait bounded, every connection named. */
export interface ServerOptions {
  url: string;
  /** PostgreSQL's statement_timeout on iden's sessions. */
  statementTimeoutMs: number;
  /** PostgreSQL's lock_timeout on iden's sessions: how long a statement waits for another session's lock. */
  lockTimeoutMs: number;
  connectTimeoutMs: number;
}

/** What a statement waits for beyond the server's own timeouts before iden takes the connection for dead. */
const GRACE_MS = 5_000;

/**
 * How iden's connections are seen on the server (`application_name`, in
 * pg_stat_activity): `iden reconcile (pid 4242 on ci-runner-7)`, so a DBA,
 * and another iden run waiting for the advisory lock, can tell who holds it.
 */
export function applicationName(): string {
  const script = basename(process.argv[1] ?? '');
  const command = /^(iden|bin\.js)$/.test(script) ? process.argv[2] : undefined;
  const name = `iden${command && /^[a-z-]+$/.test(command) ? ` ${command}` : ''} (pid ${process.pid} on ${hostname()})`;
  // PostgreSQL keeps 63 bytes of it.
  return Buffer.from(name)
    .subarray(0, 63)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/** How every connection iden opens is made: named, its connect bounded, keepalives finding dead peers. */
export function clientConfig(options: ServerOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    application_name: applicationName(),
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/**
 * Bounds a new connection's statements and lock waits. Set once connected
 * rather than as startup parameters, which a pooler such as PgBouncer
 * refuses. iden never idles inside a transaction: one that does is a run
 * that stopped while holding locks, and the server ends it.
 */
export async function configure(client: pg.ClientBase, options: ServerOptions): Promise<void> {
  await timedQuery(
    client,
    `SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false),
            set_config('idle_in_transaction_session_timeout', $3, false)`,
    [
      `${options.statementTimeoutMs}ms`,
      `${options.lockTimeoutMs}ms`,
      `${options.statementTimeoutMs + GRACE_MS}ms`,
    ],
    options.statementTimeoutMs + GRACE_MS,
  );
}

/** The server did not answer within the time its own timeouts allow: the connection was closed. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
  readonly code = 'IDEN_NO_ANSWER';
}

/**
 * Runs a statement on a client under a watchdog: the server cancels what
 * takes longer than statement_timeout itself, so a statement still
 * unanswered after that (a network that went silent) closes the connection,
 * and fails as a connection lost.
 */
export async function timedQuery<T>(
  client: pg.ClientBase,
  sql: string,
  params: unknown[] | undefined,
  limitMs: number,
): Promise<T[]> {
  const connection = (
    client as unknown as {
      connection?: {
        stream?: { destroy(): void };
        on(event: string, listener: () => void): void;
        off(event: string, listener: () => void): void;
      };
    }
  ).connection;
  let timer: NodeJS.Timeout | undefined;
  let fail: (e: Error) => void = () => undefined;
  const watchdog = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      connection?.stream?.destroy();
      fail(
        new NoAnswerError(
          `no answer from the server within ${Math.round(limitMs / 1000)} s; the connection was closed`,
        ),
      );
    }, limitMs);
  };
  arm();
  // A string of statements is answered statement by statement: each answer starts the wait anew.
  connection?.on('commandComplete', arm);
  try {
    const result = await Promise.race([client.query(sql, params), watchdog]);
    return (Array.isArray(result) ? [] : result.rows) as T[];
  } finally {
    clearTimeout(timer);
    connection?.off('commandComplete', arm);
  }
}

/** A pool of connections to a server, for observing and for the steps' transactions. */
export function serverDatabase(options: ServerOptions, max: number): Database {
  const pool = new pg.Pool({ ...clientConfig(options), max });
  const limit = options.statementTimeoutMs + GRACE_MS;
  // A server restart, a terminated backend or idle_session_timeout closes connections at any time:
  // an idle one is dropped from the pool, a busy one fails its statement; neither may crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const configured = new WeakSet<pg.PoolClient>();
  const withClient = async <T>(fn: (query: Query) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: unknown;
    try {
      if (!configured.has(client)) {
        await configure(client, options);
        configured.add(client);
      }
      return await fn((sql, params) => timedQuery(client, sql, params, limit));
    } catch (e) {
      // A connection that failed mid-statement is not given to the next step.
      if (e instanceof NoAnswerError || !(e as { code?: unknown }).code) broken = e;
      throw e;
    } finally {
      client.release(broken !== undefined);
    }
  };
  return {
    query: (sql, params) => withClient((query) => query(sql, params)),
    transaction: (fn) =>
      withClient(async (query) => {
        await query('BEGIN');
        try {
          const result = await fn(query, async (sql) => {
            await query(sql);
          });
          await query('COMMIT');
          return result;
        } catch (e) {
          await query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }),
    close: () => pool.end(),
  };
}
