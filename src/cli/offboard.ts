// iden offboard: remove all of a person's access in one commit.
import type { Command } from 'commander';
import { type FlowFlags, flowFlags } from './flow-options.js';
import type { Io } from './io.js';
import { examples } from './options.js';

export interface OffboardOptions extends FlowFlags {
  user?: string;
  removePerson?: boolean;
}

export function offboardCommand(cli: Command, io: Io, done: (code: number) => void): void {
  flowFlags(
    cli
      .command('offboard')
      .description("remove all of a person's access in one commit")
      .option('--user <id|email>', 'the person (asked on a terminal when not given)')
      .option(
        '--remove-person',
        'also remove them from _people.yaml, the roles and the approvers (a policy change)',
      ),
  )
    .addHelpText(
      'after',
      examples('iden offboard --user bob@example.com', 'iden offboard --user bob --remove-person --yes'),
    )
    .action(async (options: OffboardOptions) => done(await runOffboard(options, io)));
}

export async function runOffboard(options: OffboardOptions, io: Io): Promise<number> {
  const { openFlow, finish } = await import('./flow.js');
  const { proposeOffboard } = await import('../flow/offboard.js');
  const { ws, ask } = await openFlow(options, io);
  return finish(ws, await proposeOffboard(ws, options, ask), options, io, ask);
}
