// iden reconcile: plan and apply in one, for CI and schedules.
import type { Command } from 'commander';
import { engineFlags, type RunOptions, recordFlags } from './engine-options.js';
import type { Engine, Io } from './io.js';
import { examples } from './options.js';

export function reconcileCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  recordFlags(
    engineFlags(cli.command('reconcile').description('plan and apply in one, for CI and schedules')),
  )
    .option('--commit', 'then delete ended grant files in one commit and push it')
    .addHelpText(
      'after',
      examples(
        'iden reconcile --yes                         # what CI and schedules run',
        'iden reconcile --yes --commit                # and delete grant files that ended',
      ),
    )
    .action(async (options: RunOptions & { yes?: boolean }) =>
      done(await (await import('./engine.js')).planAskApply(options, io, engine, 'reconcile')),
    );
}
