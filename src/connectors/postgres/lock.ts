import pg from 'pg';
import type { Clock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';
import { acquireLock } from '../../util/lock.js';
import { ObserveError } from '../types.js';
import { clientConfig, configure, type ServerOptions, timedQuery } from './database.js';
import { openError } from './errors.js';

/** The advisory-lock key every iden run takes on a managed database. */
export const ADVISORY_KEY = 7_400_202_611;

/** What a statement on the lock's connection may take beyond the server's answer. */
const GRACE_MS = 5_000;

/** A share of the run's hold on one database: apps of one run on one database share it. */
export interface Lease {
  /** The cluster as the server names itself (its system identifier), whatever the URL said. */
  readonly cluster: string;
  /** Why the run no longer excludes others, once the lock's connection is gone. */
  lost(): string | undefined;
  /** Told once, when the lock's connection is lost. */
  onLost(listener: (why: string) => void): void;
  release(): Promise<void>;
}

interface Entry {
  client: pg.Client;
  cluster: string;
  refs: number;
  ready: Promise<void>;
  ending: boolean;
  lost?: string;
  listeners: Set<(why: string) => void>;
}

/**
 * The advisory locks this process holds, by cluster and database (the scope
 * PostgreSQL gives an advisory lock): a second app of the run on the same
 * database shares the first one's instead of waiting for itself forever.
 */
const held = new Map<string, Entry>();

export interface LockContext {
  lockTimeoutMs: number;
  onNotice?: (text: string) => void;
  clock?: Clock;
}

/**
 * Connects, learns which cluster and database this is from the server, and
 * takes (or shares) the run's session-level advisory lock there, on a
 * connection of its own kept for the run: runs from other machines and CI
 * jobs exclude each other, and a run that dies releases it with its
 * connection. The wait is the server's (lock_timeout), bounded by
 * --lock-timeout, and names who holds it.
 */
export async function lockServer(options: ServerOptions, context: LockContext): Promise<Lease> {
  const client = new pg.Client(clientConfig(options));
  // A restart or a terminated backend closes this connection at any time: that loses the lock, never the process.
  client.on('error', () => undefined);
  const limit = options.statementTimeoutMs + GRACE_MS;
  let cluster: string;
  let key: string;
  try {
    await client.connect();
    await configure(client, options);
    cluster = await clusterId(client, limit);
    const [db] = await timedQuery<{ oid: string }>(
      client,
      'SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()',
      [],
      limit,
    );
    key = `${cluster}/${db?.oid}`;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw openError(e, 'cannot open the database');
  }
  const existing = held.get(key);
  if (existing && !existing.lost) {
    existing.refs++;
    await client.end().catch(() => undefined);
    await existing.ready.catch((e: unknown) => {
      throw e instanceof ObserveError ? e : openError(e, 'cannot take the advisory lock');
    });
    return lease(key, existing);
  }
  const entry: Entry = {
    client,
    cluster,
    refs: 1,
    ready: Promise.resolve(),
    ending: false,
    listeners: new Set(),
  };
  entry.ready = take(client, options, context);
  held.set(key, entry);
  try {
    await entry.ready;
  } catch (e) {
    if (held.get(key) === entry) held.delete(key);
    entry.ending = true;
    await client.end().catch(() => undefined);
    throw e instanceof ObserveError ? e : openError(e, 'cannot take the advisory lock');
  }
  const lose = (why: string) => {
    if (entry.ending || entry.lost) return;
    entry.lost = `the connection holding the database's advisory lock was lost (${why}): another run may now change this database`;
    if (held.get(key) === entry) held.delete(key);
    for (const listener of entry.listeners) listener(entry.lost);
  };
  client.on('error', (e: Error) => lose(e.message));
  client.on('end', () => lose('the server closed it'));
  return lease(key, entry);
}

function lease(key: string, entry: Entry): Lease {
  let released = false;
  return {
    cluster: entry.cluster,
    lost: () => entry.lost,
    onLost: (listener) => {
      entry.listeners.add(listener);
    },
    async release() {
      if (released) return;
      released = true;
      if (--entry.refs > 0) return;
      entry.ending = true;
      if (held.get(key) === entry) held.delete(key);
      // Ending the connection ends its session, and with it the lock.
      await entry.client.end().catch(() => undefined);
    },
  };
}

/**
 * The server's own name for its cluster: the system identifier initdb gave
 * it (pg_control_system(), readable by any role on PostgreSQL 15), the same
 * through 127.0.0.1, localhost or a DNS name. A server that refuses it is
 * named by when it started and its port, which no other server shares.
 */
export async function clusterId(client: pg.Client, limit: number): Promise<string> {
  try {
    const [row] = await timedQuery<{ id: string }>(
      client,
      'SELECT system_identifier::text AS id FROM pg_control_system()',
      [],
      limit,
    );
    if (row?.id) return `system ${row.id}`;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== '42501' && code !== '42883') throw e;
  }
  const [row] = await timedQuery<{ id: string }>(
    client,
    `SELECT 'started ' || pg_postmaster_start_time()::text || ' port ' || current_setting('port') AS id`,
    [],
    limit,
  );
  return row?.id ?? 'unknown';
}

async function take(client: pg.Client, options: ServerOptions, context: LockContext): Promise<void> {
  const limit = options.statementTimeoutMs + GRACE_MS;
  // The lock's connection is idle by design: a server-wide idle_session_timeout (PostgreSQL 14+) must not end it.
  await timedQuery(
    client,
    "SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'idle_session_timeout'",
    [],
    limit,
  );
  const [row] = await timedQuery<{ ok: boolean }>(
    client,
    'SELECT pg_try_advisory_lock($1) AS ok',
    [ADVISORY_KEY],
    limit,
  );
  if (row?.ok) return;
  const first = await holder(client, limit);
  if (context.lockTimeoutMs <= 0) throw busy(first, 0);
  context.onNotice?.(`waiting for ${first} to finish: it holds the database's advisory lock`);
  // The server waits, and gives up after lock_timeout: no polling, and no clock of ours decides.
  await timedQuery(
    client,
    "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', '0', false)",
    [`${Math.ceil(context.lockTimeoutMs)}ms`],
    limit,
  );
  try {
    await timedQuery(client, 'SELECT pg_advisory_lock($1)', [ADVISORY_KEY], context.lockTimeoutMs + GRACE_MS);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    throw busy(await holder(client, limit).catch(() => first), context.lockTimeoutMs);
  }
  await configure(client, options);
}

function busy(who: string, waitedMs: number): ObserveError {
  return new ObserveError(
    `${who} holds the database's advisory lock (key ${ADVISORY_KEY})${waitedMs > 0 ? `; waited ${formatDuration(waitedMs)}` : ''}. Nothing was changed: try again when it ends, or give --lock-timeout`,
  );
}

/** Who holds the advisory lock, from pg_locks and pg_stat_activity: iden's runs say so in their application_name. */
async function holder(client: pg.Client, limit: number): Promise<string> {
  const [row] = await timedQuery<{ pid: number; app: string | null; role: string | null }>(
    client,
    `SELECT a.pid, a.application_name AS app, a.usename AS role
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid`,
    [ADVISORY_KEY],
    limit,
  );
  if (!row) return 'another session';
  const at = `server pid ${row.pid}${row.role ? `, role ${row.role}` : ''}`;
  return row.app?.startsWith('iden')
    ? `${row.app} (${at})`
    : `a session that is not an iden run (${at}${row.app ? `, application "${row.app}"` : ''})`;
}

/**
 * The embedded database's folder is locked for the run, as a file naming its
 * holder: the embedded database has no server to hold an advisory lock.
 */
export async function lockFolder(path: string, context: LockContext): Promise<() => void> {
  return acquireLock(path, {
    timeoutMs: context.lockTimeoutMs,
    command: 'iden',
    ...(context.onNotice ? { onNotice: context.onNotice } : {}),
    ...(context.clock ? { clock: context.clock } : {}),
  });
}
