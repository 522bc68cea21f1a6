import { Command, CommanderError, Option } from 'commander';
import { CancelledError, OperatorError, UsageError } from '../errors.js';
import { idenVersion } from '../util/package-root.js';
import { applyCommand } from './apply.js';
import { appsCommand } from './apps.js';
import { changeCommand } from './change.js';
import { checkPrCommand } from './check-pr.js';
import { completionCommand } from './completion.js';
import { grantCommand } from './grant.js';
import { importCommand } from './import.js';
import { DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io } from './io.js';
import { offboardCommand } from './offboard.js';
import { choice } from './options.js';
import { planCommand } from './plan.js';
import { reconcileCommand } from './reconcile.js';
import { reviewCommands } from './review.js';
import { revokeCommand } from './revoke.js';
import { serveCommand } from './serve.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

// Each command's code is imported when it runs, so `iden --help` and
// `iden validate` do not load octokit, pg, simple-git and the rest.
const audit = () => import('./audit.js');
const init = () => import('./init.js');
const views = () => import('./access.js');

/** Builds the command tree; every action resolves to an exit code. */
export function program(io: Io, done: (code: number) => void, engine: Engine = {}): Command {
  const cli = new Command('iden')
    .description('Access grants as code: validate, plan and provision app access from a git repository')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(idenVersion(), '-V, --version', 'print the version of iden')
    .showHelpAfterError();

  validateCommand(cli, io, done);

  // The commands that plan against the apps: each defines its flags in its own file.
  planCommand(cli, io, done, engine);
  applyCommand(cli, io, done, engine);
  reconcileCommand(cli, io, done, engine);
  appsCommand(cli, io, done);
  statusCommand(cli, io, done, engine);

  checkPrCommand(cli, io, done);

  const viewFormat = () =>
    new Option('--format <format>', 'text, json, csv or markdown')
      .argParser(choice('--format', ['text', 'json', 'csv', 'markdown'] as const))
      .default('text');
  cli
    .command('access')
    .description('who has access now (or at --at): every grant active or scheduled, and the seats left')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--app <id>', 'only this app')
    .option('--user <id|email>', 'only this person')
    .option('--at <iso>', 'at this instant instead of now')
    .option(
      '--observed',
      'also observe the apps (credentials as for plan): in sync, pending or missing, and drift',
    )
    .option(
      '--lock-timeout <duration>',
      `with --observed: how long to wait for another run (default ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .addOption(viewFormat())
    .action(async (options) => done(await (await views()).runAccess(options, io, engine)));

  cli
    .command('upcoming')
    .description('what starts and ends soon: within --within (default 7d) of now or --at')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--app <id>', 'only this app')
    .option('--user <id|email>', 'only this person')
    .option('--at <iso>', 'from this instant instead of now')
    .option('--within <duration>', 'how far ahead: 1d, 36h, 2w (default 7d)')
    .addOption(viewFormat())
    .action(async (options) => done(await (await views()).runUpcoming(options, io)));

  cli
    .command('report')
    .description('write the access report: a static site to open in a browser or publish')
    .option('--repo <dir>', 'the access repository root', '.')
    .requiredOption('--out <dir>', 'the folder to write it to')
    .option('--at <iso>', 'at this instant instead of now')
    .action(async (options) => done(await (await views()).runReport(options, io)));

  serveCommand(cli, io, done, engine);

  cli
    .command('init')
    .description('start a new access repository in an empty or new folder')
    .argument('[dir]', 'the folder (default: the current one)')
    .option('--timezone <zone>', "the IANA time zone bare dates are read in (default: this system's)")
    .option('--super-admin <id>', 'your person id, the first Super Admin (default: from your email)')
    .option('--name <name>', 'your name (default: git config user.name)')
    .option('--email <email>', 'your email (default: git config user.email)')
    .option('--github <login>', 'your GitHub login, by which pull requests know you')
    .option('--yes', 'ask nothing: take the flags and the defaults')
    .option('--force', 'make it inside another git repository all the same')
    .option('--no-install', 'skip npm install (then run it and commit package-lock.json)')
    .option(
      '--default-branch <name>',
      'the default branch (default: git config init.defaultBranch, else main)',
    )
    .action(async (dir: string | undefined, options) => done(await (await init()).runInit(dir, options, io)));

  importCommand(cli, io, done, engine);

  // The grant flow: each command defines its flags in its own file.
  grantCommand(cli, io, done);
  changeCommand(cli, io, done);
  revokeCommand(cli, io, done);
  offboardCommand(cli, io, done);

  cli
    .command('audit')
    .description('who had what, when, granted and approved by whom: the timeline from git history')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--user <id>', 'only this person')
    .option('--app <id>', 'only this app')
    .option('--since <iso>', 'events at or after this instant')
    .option('--until <iso>', 'events before this instant')
    .option(
      '--as-of <iso>',
      'instead of events: who had access at this instant (with --user, --app), and what the records show',
    )
    .option(
      '--review',
      'the access review export: one row per person and entitlement in force (at --as-of, default now)',
    )
    .option(
      '--format <format>',
      'text, json or csv',
      choice('--format', ['text', 'json', 'csv'] as const),
      'text',
    )
    .action(async (options) => done(await (await audit()).runAudit(options, io)));

  // iden review …: defined in its own file; it loads what each command needs when it runs.
  reviewCommands(cli, io, done);

  completionCommand(cli, io, done);

  return cli;
}

/** Runs iden with arguments (without node and script) and returns the exit code. Never throws. */
export async function main(args: string[], io: Io, engine: Engine = {}): Promise<number> {
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
