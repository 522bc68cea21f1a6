import { Command, CommanderError } from 'commander';
import { CancelledError, OperatorError, UsageError } from '../errors.js';
import { paint } from '../report/paint.js';
import { idenVersion } from '../util/package-root.js';
import { colourOn, type Engine, EXIT, type Io } from './io.js';

/** A command's definition: its flags, help and action, added to the program. */
type Define = (cli: Command, io: Io, done: (code: number) => void, engine: Engine) => void;

/**
 * Every command, grouped as `iden --help` lists them. Each defines its flags in
 * a module of its own, loaded only when the program needs it: a command line
 * naming one command loads that one (a few hundredths of a second less at
 * every start), help and completion load them all.
 */
const COMMANDS: [group: string, commands: [name: string, load: () => Promise<Define>][]][] = [
  [
    'Give, change and see access:',
    [
      ['grant', async () => (await import('./grant.js')).grantCommand],
      ['change', async () => (await import('./change.js')).changeCommand],
      ['revoke', async () => (await import('./revoke.js')).revokeCommand],
      ['offboard', async () => (await import('./offboard.js')).offboardCommand],
      ['access', async () => (await import('./access.js')).accessCommand],
      ['upcoming', async () => (await import('./upcoming.js')).upcomingCommand],
    ],
  ],
  [
    'In CI: check, plan and apply:',
    [
      ['validate', async () => (await import('./validate.js')).validateCommand],
      ['check-pr', async () => (await import('./check-pr.js')).checkPrCommand],
      ['plan', async () => (await import('./plan.js')).planCommand],
      ['apply', async () => (await import('./apply.js')).applyCommand],
      ['reconcile', async () => (await import('./reconcile.js')).reconcileCommand],
      ['status', async () => (await import('./status.js')).statusCommand],
      ['apps', async () => (await import('./apps.js')).appsCommand],
    ],
  ],
  [
    'Audit and review:',
    [
      ['audit', async () => (await import('./audit.js')).auditCommand],
      ['report', async () => (await import('./report.js')).reportCommand],
      ['review', async () => (await import('./review.js')).reviewCommands],
    ],
  ],
  [
    'Set up and run:',
    [
      ['init', async () => (await import('./init.js')).initCommand],
      ['import', async () => (await import('./import.js')).importCommand],
      ['serve', async () => (await import('./serve.js')).serveCommand],
      ['completion', async () => (await import('./completion.js')).completionCommand],
    ],
  ],
];

/** The command a command line runs, when one needs no other defined (completion lists them all). */
function only(args: readonly string[]): string | undefined {
  const first = args[0];
  if (first === undefined || first === 'completion') return undefined;
  return COMMANDS.some(([, commands]) => commands.some(([name]) => name === first)) ? first : undefined;
}

/**
 * Builds the command tree; every action resolves to an exit code. With
 * `command`, that command alone (the rest would be unused); else every one.
 */
export async function program(
  io: Io,
  done: (code: number) => void,
  engine: Engine = {},
  command?: string,
): Promise<Command> {
  const cli = new Command('iden')
    .description('Access grants as code: validate, plan and provision app access from a git repository')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(idenVersion(), '-V, --version', 'print the version of iden')
    .showHelpAfterError();
  for (const [group, commands] of COMMANDS) {
    const wanted = commands.filter(([name]) => command === undefined || name === command);
    if (wanted.length === 0) continue;
    const defines = await Promise.all(wanted.map(([, load]) => load()));
    cli.commandsGroup(group);
    for (const define of defines) define(cli, io, done, engine);
  }
  return cli;
}

/** Runs iden with arguments (without node and script) and returns the exit code. Never throws. */
export async function main(args: string[], given: Io, engine: Engine = {}): Promise<number> {
  const io = withColouredPrefixes(given);
  let code: number = EXIT.ok;
  try {
    const cli = await program(
      io,
      (c) => {
        code = c;
      },
      engine,
      only(args),
    );
    await cli.parseAsync(args, { from: 'user' });
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
