import { Command, CommanderError } from 'commander';
import { CancelledError, OperatorError, UsageError } from '../errors.js';
import { paint } from '../report/paint.js';
import { idenVersion } from '../util/package-root.js';
import { accessCommand } from './access.js';
import { applyCommand } from './apply.js';
import { appsCommand } from './apps.js';
import { auditCommand } from './audit.js';
import { changeCommand } from './change.js';
import { checkPrCommand } from './check-pr.js';
import { completionCommand } from './completion.js';
import { grantCommand } from './grant.js';
import { importCommand } from './import.js';
import { initCommand } from './init.js';
import { colourOn, type Engine, EXIT, type Io } from './io.js';
import { offboardCommand } from './offboard.js';
import { planCommand } from './plan.js';
import { reconcileCommand } from './reconcile.js';
import { reportCommand } from './report.js';
import { reviewCommands } from './review.js';
import { revokeCommand } from './revoke.js';
import { serveCommand } from './serve.js';
import { statusCommand } from './status.js';
import { upcomingCommand } from './upcoming.js';
import { validateCommand } from './validate.js';

/** Builds the command tree; every action resolves to an exit code. */
export function program(io: Io, done: (code: number) => void, engine: Engine = {}): Command {
  const cli = new Command('iden')
    .description('Access grants as code: validate, plan and provision app access from a git repository')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(idenVersion(), '-V, --version', 'print the version of iden')
    .showHelpAfterError();

  // Every command defines its flags in its own file and loads the core only when it runs;
  // `iden --help` lists them grouped by use.
  cli.commandsGroup('Give, change and see access:');
  grantCommand(cli, io, done);
  changeCommand(cli, io, done);
  revokeCommand(cli, io, done);
  offboardCommand(cli, io, done);
  accessCommand(cli, io, done, engine);
  upcomingCommand(cli, io, done);

  cli.commandsGroup('In CI: check, plan and apply:');
  validateCommand(cli, io, done);
  checkPrCommand(cli, io, done);
  planCommand(cli, io, done, engine);
  applyCommand(cli, io, done, engine);
  reconcileCommand(cli, io, done, engine);
  statusCommand(cli, io, done, engine);
  appsCommand(cli, io, done);

  cli.commandsGroup('Audit and review:');
  auditCommand(cli, io, done);
  reportCommand(cli, io, done, engine);
  reviewCommands(cli, io, done);

  cli.commandsGroup('Set up and run:');
  initCommand(cli, io, done);
  importCommand(cli, io, done, engine);
  serveCommand(cli, io, done, engine);
  completionCommand(cli, io, done);

  return cli;
}

/** Runs iden with arguments (without node and script) and returns the exit code. Never throws. */
export async function main(args: string[], given: Io, engine: Engine = {}): Promise<number> {
  const io = withColouredPrefixes(given);
  let code: number = EXIT.ok;
  try {
    await program(
      io,
      (c) => {
        code = c;
      },
      engine,
    ).parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    const code = exitCodeFor(e, io);
    // With --detailed-exitcode, 2 means changes: every error, usage and internal ones too, is 1.
    return code === EXIT.usage && args.includes('--detailed-exitcode') ? EXIT.failed : code;
  }
}

/**
 * Every command's errors and notices in colour where stderr is a terminal:
 * the `iden:` that starts an error red, `notice:` and `warning:` yellow.
 */
function withColouredPrefixes(io: Io): Io {
  if (!colourOn(io, 'stderr')) return io;
  const hue = paint(true);
  return {
    ...io,
    stderr: (text) =>
      io.stderr(
        text.replace(/^(iden:|notice:|warning:)/gm, (prefix) =>
          hue(prefix === 'iden:' ? 'red' : 'yellow', prefix),
        ),
      ),
  };
}

function exitCodeFor(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
      return EXIT.ok;
    return EXIT.usage;
  }
  if (e instanceof CancelledError || (e as Error)?.name === 'ExitPromptError') {
    io.stderr('iden: cancelled; nothing was changed\n');
    return EXIT.failed;
  }
  if (e instanceof OperatorError) {
    io.stderr(`iden: ${e.message}\n`);
    return EXIT.failed;
  }
  if (e instanceof UsageError) {
    io.stderr(`iden: ${e.message}\n`);
    return EXIT.usage;
  }
  io.stderr(`iden: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.usage;
}
