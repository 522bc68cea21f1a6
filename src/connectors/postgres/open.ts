import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { inCi } from '../../util/ci.js';
import { type AppSpec, AppStoppedError, type ConnectorContext, type Session, typed } from '../types.js';
import { keepWarm, takeWarm } from '../warm.js';
import { clientConfig, type Database, type ServerOptions, serverDatabase } from './database.js';
import { embeddedDatabase } from './embedded.js';
import { clusterId, lockFolder, lockServer } from './lock.js';
import { PostgresSession } from './session.js';
import type { PostgresConnector } from './settings.generated.js';

/** Defaults of the settings that bound every wait on a server. */
export const DEFAULTS = { statementTimeoutMs: 30_000, lockTimeoutMs: 10_000, connectTimeoutMs: 10_000 };

/** The app's server and how iden talks to it; undefined for the embedded database. */
function serverOptions(settings: PostgresConnector, env: NodeJS.ProcessEnv): ServerOptions | undefined {
  const url = settings.urlEnv ? env[settings.urlEnv] : settings.url;
  if (!url) return undefined;
  return {
    url,
    statementTimeoutMs: settings.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs,
    lockTimeoutMs: settings.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
  };
}

/** Opens a session on the app's database: a server through pg, or the embedded PGlite under .iden/. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
  const options = serverOptions(settings, context.env);
  const createRoles = settings.createRoles ?? !options;
  if (options) {
    const lease = await lockServer(options, context);
    const concurrency = settings.concurrency ?? 4;
    const db = serverDatabase(options, concurrency);
    return new PostgresSession(app, context, {
      connect: async () => db,
      concurrency,
      createRoles,
      lease,
      target: `postgres ${lease.cluster}`,
      timeouts: options,
      release: async () => {
        try {
          await db.close();
        } finally {
          await lease.release();
        }
      },
    });
  }
  return openEmbedded(app, context, createRoles);
}

/**
 * The embedded database: its folder is locked for the run, created (from a
 * template) only when a change is made, and its thread stopped between
 * observing and applying, so many of them never run at once.
 */
async function openEmbedded(app: AppSpec, context: ConnectorContext, createRoles: boolean): Promise<Session> {
  const dataDir = join(context.repoRoot, '.iden', 'pglite', app.id);
  sayWhatEmbeddedIs(app.id, dataDir, context);
  const release = await lockFolder(`${dataDir}.lock`, context);
  let db: Database | undefined;
  const connect = async (create: boolean): Promise<Database | undefined> => {
    if (db) return db;
    const exists = existsSync(join(dataDir, 'PG_VERSION'));
    if (!create && !exists) return undefined;
    if (!exists) context.onProgress?.('creating the embedded database');
    try {
      db =
        (context.keepWarm ? takeWarm<Database>(dataDir) : undefined) ??
        (await embeddedDatabase(dataDir, { timeoutMs: context.embeddedTimeoutMs ?? 60_000 }));
    } catch (e) {
      throw new AppStoppedError(`cannot open the embedded database: ${(e as Error).message}`, { cause: e });
    }
    return db;
  };
  const session = new PostgresSession(app, context, {
    connect,
    concurrency: 1,
    createRoles,
    release: async () => {
      try {
        await letGo();
      } finally {
        release();
      }
    },
  });
  // Kept for the next run of a long-lived process (its thread is the slow part to start), else closed.
  const letGo = async () => {
    const open = db;
    db = undefined;
    session.forget();
    if (open && context.keepWarm) keepWarm(dataDir, open, () => open.close());
    else await open?.close();
  };
  session.suspend = letGo;
  return session;
}

/** The cluster an app's server says it is, for a run that does not open the app: one connection, nothing locked. */
export async function identify(app: AppSpec, env: NodeJS.ProcessEnv): Promise<string> {
  const options = serverOptions(typed<PostgresConnector, unknown, unknown>(app).connector, env);
  if (!options) return `embedded:${app.id}`;
  const client = new pg.Client(clientConfig(options));
  client.on('error', () => undefined);
  try {
    await client.connect();
    return `postgres ${await clusterId(client, options.statementTimeoutMs)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const told = new Set<string>();

/**
 * The embedded database belongs to one clone: a CI job's is new every time, and
 * a daemon's is seen by no one else. Where that matters it is said, in one line
 * (once a process, for iden serve).
 */
function sayWhatEmbeddedIs(app: string, dataDir: string, context: ConnectorContext): void {
  const ci = inCi(context.env);
  if (!ci && !context.keepWarm) return;
  if (context.keepWarm && told.has(dataDir)) return;
  told.add(dataDir);
  // The caller names the app: `notice: analytics: an embedded PostgreSQL …`.
  const where = `an embedded PostgreSQL in .iden/pglite/${app} of this clone, for trying iden out`;
  context.onNotice?.(
    ci
      ? `${where}: every CI job starts with an empty one (set url or urlEnv for a server)`
      : `${where}: only this iden serve sees it (set url or urlEnv for a server)`,
  );
}
