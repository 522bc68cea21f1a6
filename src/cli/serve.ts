// iden serve: keep a clone current and reconcile to the second.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../model/duration.js';
import { DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io, UsageError } from './io.js';
import { choice, examples } from './options.js';

export function serveCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  cli
    .command('serve')
    .description(
      'keep a clone current and reconcile to the second: when grants start or end, on a schedule, and on push webhooks',
    )
    .option('--repo <dir>', 'the clone to serve (clean, on the branch)', '.')
    .option('--branch <name>', "the branch to follow (default: origin's default branch)")
    .option('--pull-interval <duration>', 'how often to fetch and fast-forward (default 1m)')
    .option('--schedule <cron>', "full reconciles (default: _settings.yaml's schedule, else */15 * * * *)")
    .option(
      '--listen <host:port>',
      'where /healthz, /metrics and /hooks/github answer (default 127.0.0.1:8080)',
    )
    .option(
      '--log-format <format>',
      'text or json',
      choice('--log-format', ['text', 'json'] as const),
      'text',
    )
    .option('--no-push', 'keep apply records local instead of pushing them')
    .addHelpText(
      'after',
      examples(
        'iden serve --listen 0.0.0.0:8080 --log-format json',
        "iden serve --schedule '0 * * * *' --pull-interval 30s",
      ),
    )
    .action(async (options: ServeOptions) => done(await runServe(options, io, engine)));
}

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
  const { Cron } = await import('croner');
  const { connectors } = await import('../connectors/catalog.js');
  const { repositoryRoot } = await import('../git/state.js');
  const { loadCommitted } = await import('../load/committed.js');
  const { startDaemon } = await import('../serve/daemon.js');
  const { makeLogger } = await import('../serve/log.js');
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
