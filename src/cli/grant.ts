// iden grant: give a person access to an app, as the product's Grant Access page does.
import type { Command } from 'commander';
import { type ActionResult, type FlowFlags, flowFlags, repeat } from './flow-options.js';
import type { Io } from './io.js';
import { examples } from './options.js';

export type { ActionResult };

export interface GrantOptions extends FlowFlags {
  app?: string;
  user?: string;
  permission?: string[];
  license?: string;
  start?: string;
  end?: string;
  /** Emergency (break-glass) access where a rule allows it: see docs/rules.md. */
  emergency?: boolean;
}

export function grantCommand(cli: Command, io: Io, done: (code: number) => void): void {
  flowFlags(
    cli
      .command('grant')
      .description(
        "give a person access to an app: the product's Grant Access flow, as a branch and a pull request",
      )
      .option('--app <id>', 'the app (start from the app: then iden asks for the person)')
      .option('--user <id|email>', 'the person (start from the person: then iden asks for the app)')
      .option('--permission <id>', 'an entitlement to grant (repeatable)', repeat)
      .option('--license <tier>', 'the license tier, when the app has tiers')
      .option('--start <date|now>', 'when access begins (default now)')
      .option(
        '--end <date|duration>',
        'when access ends: a date, or a duration from the start such as 90d (default: no end)',
      )
      .option(
        '--emergency',
        'emergency access where a rule allows it: from now, applied without waiting (docs/rules.md)',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'iden grant                                   # asks which app, who, what, when',
        'iden grant --app github --user alice@example.com',
        "iden grant --app db --user bob --permission readonly --end 90d --reason 'INC-42' --yes",
      ),
    )
    .action(async (options: GrantOptions) => done(await runGrant(options, io)));
}

export async function runGrant(options: GrantOptions, io: Io): Promise<number> {
  const { openFlow, finish } = await import('./flow.js');
  const { proposeGrant } = await import('../flow/grant.js');
  const { ws, ask, say } = await openFlow(options, io);
  return finish(ws, await proposeGrant(ws, options, ask, say), options, io, ask);
}
