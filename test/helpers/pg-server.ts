import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The newest installed PostgreSQL's programs (Debian puts them under /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/**
 * The server's environment: a server of its own keeps the real time, as a
 * production one does, even when the suite runs under faketime (its
 * LD_PRELOAD would otherwise reach postgres and make its own timeouts, such
 * as idle_session_timeout and lock waits, fire at the faked pace).
 */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (name === 'LD_PRELOAD' || name.startsWith('FAKETIME')) delete env[name];
  return env;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresServer {
  /** The server's major version, as it reports it. */
  version: string;
  port: number;
  /** A URL for a role (trust authentication on loopback) and database. */
  url(user?: string, database?: string): string;
  /** Runs SQL as the superuser `postgres` in a database. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Stops the server, ending every session as a restart or failover does, and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL cluster from the system's packages, initialised in a
 * temporary folder and listening on a random loopback port; stopped and
 * removed by `stop`. initdb refuses to run as root, so as root it runs as
 * the `postgres` user the package created.
 */
export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed: .ci/run installs Debian's postgresql package");
  const dir = mkdtempSync(join(tmpdir(), 'iden-postgres-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o777);
    execFileSync('chown', ['postgres', dir]);
  }
  const run = (program: string, args: string[]) => {
    const command = asRoot ? 'runuser' : join(bin, program);
    const full = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
    const result = spawnSync(command, full, { encoding: 'utf8', env: serverEnv() });
    if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const port = await freePort();
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${options.maxConnections ?? 60}`,
      'start',
    ]);
  start();
  const url = (user = 'postgres', database = 'postgres') =>
    `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`;
  const sql = async <T>(text: string, params?: unknown[], database = 'postgres') => {
    const client = new pg.Client({ connectionString: url('postgres', database) });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const [{ server_version: version = '' } = {}] = await sql<{ server_version: string }>(
    'SHOW server_version',
  );
  return {
    version,
    port,
    url,
    sql,
    restart: async () => {
      run('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);
      start();
    },
    stop: async () => {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
