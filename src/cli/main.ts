import { Command, CommanderError } from 'commander';
import { RepoNotFoundError } from '../load/repo.js';
import { EXIT, type Io, UsageError } from './io.js';
import { choice } from './options.js';
import { runValidate } from './validate.js';

/** Builds the command tree; every action resolves to an exit code. */
function program(io: Io, done: (code: number) => void): Command {
  const cli = new Command('iden')
    .description('Access grants as code: validate, plan and provision app access from a git repository')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  cli
    .command('validate')
    .description('check every file in grants/ against the schemas and the rest of the repository')
    .option('--repo <dir>', 'the access repository root', '.')
    .option(
      '--format <format>',
      'text, json or github (annotations)',
      choice('--format', ['text', 'json', 'github'] as const),
      'text',
    )
    .option('--at <iso>', 'evaluate dates at this instant instead of now')
    .action(async (options) => done(await runValidate(options, io)));

  return cli;
}

/** Runs iden with arguments (without node and script) and returns the exit code. Never throws. */
export async function main(args: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await program(io, (c) => {
      code = c;
    }).parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    return exitCodeFor(e, io);
  }
}

function exitCodeFor(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
      return EXIT.ok;
    return EXIT.usage;
  }
  if (e instanceof UsageError || e instanceof RepoNotFoundError) {
    io.stderr(`iden: ${e.message}\n`);
    return EXIT.usage;
  }
  io.stderr(`iden: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.usage;
}
