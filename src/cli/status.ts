// iden status: per app, in sync, changes pending, drift, or unreachable.
import type { Command } from 'commander';
import { engineFlags, type RunOptions } from './engine-options.js';
import { type Engine, EXIT, type Io } from './io.js';
import { choice, examples } from './options.js';

type StatusOptions = RunOptions & { format: 'text' | 'json' };

export function statusCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  engineFlags(cli.command('status').description('per app: in sync, changes pending, drift, or unreachable'))
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .addHelpText('after', examples('iden status', 'iden status --app db --format json'))
    .action(async (options: StatusOptions) => done(await runStatus(options, io, engine)));
}

export async function runStatus(options: StatusOptions, io: Io, engine: Engine): Promise<number> {
  const { begin, reportFatal } = await import('./engine.js');
  const { appStatuses } = await import('../reconcile/status.js');
  const { run } = await begin('status', options, io, engine);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    const ids = [...run.repo.apps.keys()].filter((id) => options.app === undefined || id === options.app);
    const apps = appStatuses(plan, ids);
    if (options.format === 'json') io.stdout(`${JSON.stringify({ at: plan.at, apps }, null, 2)}\n`);
    else {
      for (const a of apps) {
        const counts = `${a.grant} to grant, ${a.revoke} to revoke, ${a.drift} drift, ${a.held} held`;
        io.stdout(`${a.app.padEnd(20)} ${a.state.padEnd(12)} ${a.reason ?? counts}\n`);
      }
    }
    return apps.some((a) => a.state === 'unreachable' || a.state === 'held') ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}
