import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import { connectors } from '../connectors/catalog.js';
import { repositoryRoot } from '../git/state.js';
import { loadCommitted } from '../load/committed.js';
import { parseDuration } from '../model/duration.js';
import { startDaemon } from '../serve/daemon.js';
import { makeLogger } from '../serve/log.js';
import { DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io, UsageError } from './io.js';

export interface ServeOptions {
  repo?: string;
  branch?: string;
  pullInterval?: string;
  schedule?: string;
  listen?: string;
  logFormat?: 'text' | 'json';
  push?: boolean;
}

/**
 * `iden serve`: the daemon (src/serve/daemon.ts) on a clone made for it,
 * until SIGTERM or SIGINT (or `signal`); it finishes the run in flight.
 */
export async function runServe(
  options: ServeOptions,
  io: Io,
  engine: Engine = {},
  signal?: AbortSignal,
): Promise<number> {
  const root = await repositoryRoot(io.cwd, options.repo);
  if (!existsSync(join(root, '.git')))
    throw new UsageError(`${root} is not a git clone: iden serve works on a clone made for it`);
  const pullMs = parseDuration(options.pullInterval ?? '1m');
  if (pullMs === undefined || pullMs <= 0)
    throw new UsageError(`--pull-interval ${options.pullInterval}: a duration such as 30s or 1m`);
  const settings = (await loadCommitted(root)).repo.settings?.value;
  const schedule = options.schedule ?? settings?.schedule ?? '*/15 * * * *';
  try {
    new Cron(schedule, { paused: true }).stop();
  } catch (e) {
    throw new UsageError(`--schedule ${schedule}: ${(e as Error).message}`);
  }
  const daemon = await startDaemon({
    root,
    branch: options.branch,
    pullMs,
    schedule,
    listen: options.listen ?? '127.0.0.1:8080',
    push: options.push !== false,
    env: io.env,
    clock: io.clock,
    registry: engine.registry ?? connectors,
    log: makeLogger(options.logFormat ?? 'text', io.stdout, io.clock),
    lockTimeoutMs: parseDuration(DEFAULT_LOCK_TIMEOUT)!,
    retry: engine.retry,
  });
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  await daemon.stop();
  return EXIT.ok;
}
