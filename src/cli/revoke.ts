// iden revoke: remove a person's access to an app by deleting their grant file.
import type { Command } from 'commander';
import { type FlowFlags, flowFlags } from './flow-options.js';
import type { Io } from './io.js';
import { examples } from './options.js';

export interface RevokeOptions extends FlowFlags {
  app?: string;
  user?: string;
}

export function revokeCommand(cli: Command, io: Io, done: (code: number) => void): void {
  flowFlags(
    cli
      .command('revoke')
      .description("remove a person's access to an app: deletes their grant file")
      .option('--app <id>', 'the app (asked on a terminal when not given)')
      .option('--user <id|email>', 'the person (asked on a terminal when not given)'),
  )
    .addHelpText(
      'after',
      examples(
        'iden revoke                                  # asks whose access, and why',
        "iden revoke --app db --user bob --reason 'left the team' --yes",
      ),
    )
    .action(async (options: RevokeOptions) => done(await runRevoke(options, io)));
}

export async function runRevoke(options: RevokeOptions, io: Io): Promise<number> {
  const { openFlow, finish } = await import('./flow.js');
  const { proposeRevoke } = await import('../flow/change.js');
  const { ws, ask } = await openFlow(options, io);
  return finish(ws, await proposeRevoke(ws, options, ask), options, io, ask);
}
