// iden change: edit a person's existing access to an app.
import type { Command } from 'commander';
import { type FlowFlags, flowFlags, repeat } from './flow-options.js';
import type { Io } from './io.js';
import { examples } from './options.js';

export interface ChangeOptions extends FlowFlags {
  app?: string;
  user?: string;
  addPermission?: string[];
  removePermission?: string[];
  license?: string;
  start?: string;
  /** false with --no-end. */
  end?: string | false;
}

export function changeCommand(cli: Command, io: Io, done: (code: number) => void): void {
  flowFlags(
    cli
      .command('change')
      .description("edit a person's existing access to an app (a change needs approval)")
      .option('--app <id>', 'the app (asked on a terminal when not given)')
      .option('--user <id|email>', 'the person (asked on a terminal when not given)')
      .option('--add-permission <id>', 'an entitlement to add (repeatable)', repeat)
      .option('--remove-permission <id>', 'an entitlement to remove (repeatable)', repeat)
      .option('--license <tier>', 'move to this license tier')
      .option('--start <date|now>', 'a new start')
      .option(
        '--end <date|duration>',
        'a new end: a date, or a duration such as 2w from the start (or from today once access has started)',
      )
      .option('--no-end', 'remove the end: no end'),
  )
    .addHelpText(
      'after',
      examples(
        'iden change --app github --user alice        # asks what to change',
        'iden change --app db --user bob --end 2w --yes',
        'iden change --app db --user bob --add-permission writer --no-end --yes',
      ),
    )
    .action(async (options: ChangeOptions) => done(await runChange(options, io)));
}

export async function runChange(options: ChangeOptions, io: Io): Promise<number> {
  const { openFlow, finish } = await import('./flow.js');
  const { proposeChange } = await import('../flow/change.js');
  const { ws, ask } = await openFlow(options, io);
  return finish(ws, await proposeChange(ws, options, ask), options, io, ask);
}
