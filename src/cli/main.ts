import { Command, CommanderError, Option } from 'commander';
import { OperatorError, UsageError } from '../errors.js';
import { idenVersion } from '../util/package-root.js';
import { DEFAULT_LOCK_TIMEOUT, EXIT, type Io } from './io.js';
import { choice } from './options.js';
import { reviewCommands } from './review.js';

// Each command's code is imported when it runs, so `iden --help` and
// `iden validate` do not load octokit, pg, simple-git and the rest.
const validate = () => import('./validate.js');
const reconcile = () => import('./reconcile.js');
const checkPr = () => import('./check-pr.js');
const audit = () => import('./audit.js');
const init = () => import('./init.js');
const importer = () => import('./import.js');
const views = () => import('./access.js');
const serve = () => import('./serve.js');
const grants = () => import('./grant.js');

/** Builds the command tree; every action resolves to an exit code. */
export function program(io: Io, done: (code: number) => void): Command {
  const cli = new Command('iden')
    .description('Access grants as code: validate, plan and provision app access from a git repository')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(idenVersion(), '--version', 'print the version of iden')
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
    .action(async (options) => done(await (await validate()).runValidate(options, io)));

  const common = (command: Command) =>
    command
      .option('--repo <dir>', 'the access repository root', '.')
      .option('--at <iso>', 'evaluate grants at this instant instead of now')
      .option('--app <id>', 'only this app')
      .option('--strict', 'an app whose credentials are missing fails the run instead of being skipped')
      .option('--allow-mass-removal', 'let a run remove more than the limits in _settings.yaml allow')
      .option(
        '--lock-timeout <duration>',
        `how long to wait for another run on this repository or app (default ${DEFAULT_LOCK_TIMEOUT})`,
      );

  common(
    cli
      .command('plan')
      .description('show what would be granted and revoked to make the apps match the repository'),
  )
    .option(
      '--format <format>',
      'text, json or markdown',
      choice('--format', ['text', 'json', 'markdown'] as const),
      'text',
    )
    .option('--out <file>', 'also write the plan as JSON, for iden apply <file>')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none, 1 on error')
    .action(async (options) => done(await (await reconcile()).runPlan(options, io)));

  common(
    cli
      .command('apply')
      .description('apply a saved plan, or plan and apply')
      .argument('[plan]', 'a plan written by iden plan --out'),
  )
    .option('--yes', 'apply without asking')
    .option('--no-push', 'keep the apply record (a git note) local instead of pushing it')
    .option('--record-file <file>', 'also append the apply record to this file (for a CI artifact)')
    .action(async (file: string | undefined, options) =>
      done(
        file
          ? await (await reconcile()).runApplySaved(file, options, io)
          : await (await reconcile()).runReconcile(options, io, 'apply'),
      ),
    );

  common(cli.command('reconcile').description('plan and apply in one, for CI and schedules'))
    .option('--yes', 'apply without asking')
    .option('--commit', 'then delete ended grant files in one commit and push it')
    .option('--no-push', 'keep the apply record (a git note) local instead of pushing it')
    .option('--record-file <file>', 'also append the apply record to this file (for a CI artifact)')
    .action(async (options) => done(await (await reconcile()).runReconcile(options, io)));

  cli
    .command('apps')
    .description('list the connected apps (for a CI matrix)')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .action(async (options) => done(await (await reconcile()).runApps(options, io)));

  common(cli.command('status').description('per app: in sync, changes pending, drift, or unreachable'))
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .action(async (options) => done(await (await reconcile()).runStatus(options, io)));

  cli
    .command('check-pr')
    .description('may this pull request be merged? direct grant, access request or change, and its approvals')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--base <ref>', 'the protected branch (its tip decides roles and approvers), e.g. main')
    .option('--head <ref>', "the pull request's head commit")
    .option('--author <login>', "the pull request author's GitHub login")
    .option(
      '--contributor <login>',
      'another GitHub login that committed to the pull request (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--reviews <file>', 'the reviews, as GitHub lists them for a pull request (JSON)')
    .option(
      '--pr <number>',
      'read author, head and reviews from GitHub (GITHUB_TOKEN, GITHUB_REPOSITORY); sets the iden/policy status',
    )
    .option(
      '--merge-group',
      "in a merge queue (GitHub's merge_group event): judge the queue's merge result for its pull request and set iden/policy on it",
    )
    .option('--comment', 'with --pr: post the result as one comment, updated on each push')
    .option('--at <iso>', 'evaluate dates at this instant instead of now')
    .option(
      '--format <format>',
      'text, json or markdown',
      choice('--format', ['text', 'json', 'markdown'] as const),
      'text',
    )
    .action(async (options) => done(await (await checkPr()).runCheckPr(options, io)));

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
    .action(async (options) => done(await (await views()).runAccess(options, io)));

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

  cli
    .command('serve')
    .description(
      'keep a clone current and reconcile to the second: when grants start or end, on a schedule, and on push webhooks',
    )
    .option('--repo <dir>', 'the clone to serve (clean, on the branch)', '.')
    .option('--branch <name>', "the branch to follow (default: origin's default branch)")
    .option('--pull-interval <duration>', 'how often to fetch and fast-forward (default 1m)')
    .option('--schedule <cron>', "full reconciles (default: _settings.yaml's schedule, else */15 * * * *)")
    .option(
      '--listen <host:port>',
      'where /healthz, /metrics and /hooks/github answer (default 127.0.0.1:8080)',
    )
    .option(
      '--log-format <format>',
      'text or json',
      choice('--log-format', ['text', 'json'] as const),
      'text',
    )
    .option('--no-push', 'keep apply records local instead of pushing them')
    .action(async (options) => done(await (await serve()).runServe(options, io)));

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
    .action(async (dir: string | undefined, options) => done(await (await init()).runInit(dir, options, io)));

  cli
    .command('import')
    .description('write the grant files for the access an app already holds, for review in a pull request')
    .option('--repo <dir>', 'the access repository root', '.')
    .requiredOption('--app <id>', 'the app to read')
    .option('--at <iso>', 'the date the imported grants are described at (default now)')
    .option('--add-people', 'add people to _people.yaml for accounts that match no one')
    .option(
      '--adopt',
      "list the accounts iden did not create in the app's adopt:, so that, once the change is merged, iden takes them over",
    )
    .option('--reason <text>', 'the reason written in each file (default: imported from <app> on <date>)')
    .option('--dry-run', 'print what would be written, and write nothing')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .option(
      '--lock-timeout <duration>',
      `how long to wait for another run on this app (default ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .action(async (options) => done(await (await importer()).runImport(options, io)));

  const repeat = (value: string, previous: string[] = []) => [...previous, value];
  /** The flags the four commands share: what the commit and the pull request carry. */
  const submitting = (command: Command) =>
    command
      .option('--reason <text>', 'why: a ticket, a sentence (in the file, the commit and the pull request)')
      .option('--branch <name>', 'the branch to commit on (default: <action>/<app>/<user>)')
      .option('--no-pr', 'commit on the branch only: no push, no pull request')
      .option('--yes', 'ask nothing: take the flags (needed without a terminal)')
      .option(
        '--as <login>',
        "your GitHub login, to predict the policy's verdict (default: the token's user)",
      )
      .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text');

  submitting(
    cli
      .command('grant')
      .description(
        "give a person access to an app: the product's Grant Access flow, as a branch and a pull request",
      )
      .option('--repo <dir>', 'the access repository root', '.')
      .option('--app <id>', 'the app (start from the app: then iden asks for the person)')
      .option('--user <id|email>', 'the person (start from the person: then iden asks for the app)')
      .option('--permission <id>', 'an entitlement to grant (repeatable)', repeat)
      .option('--license <tier>', 'the license tier, when the app has tiers')
      .option('--start <date|now>', 'when access begins (default now)')
      .option('--end <date>', 'when access ends (default: no end)'),
  ).action(async (options) => done(await (await grants()).runGrant(options, io)));

  submitting(
    cli
      .command('change')
      .description("edit a person's existing access to an app (a change needs approval)")
      .option('--repo <dir>', 'the access repository root', '.')
      .requiredOption('--app <id>', 'the app')
      .requiredOption('--user <id|email>', 'the person')
      .option('--add-permission <id>', 'an entitlement to add (repeatable)', repeat)
      .option('--remove-permission <id>', 'an entitlement to remove (repeatable)', repeat)
      .option('--license <tier>', 'move to this license tier')
      .option('--start <date|now>', 'a new start')
      .option('--end <date>', 'a new end')
      .option('--no-end', 'remove the end: no end'),
  ).action(async (options) => done(await (await grants()).runChange(options, io)));

  submitting(
    cli
      .command('revoke')
      .description("remove a person's access to an app: deletes their grant file")
      .option('--repo <dir>', 'the access repository root', '.')
      .requiredOption('--app <id>', 'the app')
      .requiredOption('--user <id|email>', 'the person'),
  ).action(async (options) => done(await (await grants()).runRevoke(options, io)));

  submitting(
    cli
      .command('offboard')
      .description("remove all of a person's access in one commit")
      .option('--repo <dir>', 'the access repository root', '.')
      .requiredOption('--user <id|email>', 'the person')
      .option(
        '--remove-person',
        'also remove them from _people.yaml, the roles and the approvers (a policy change)',
      ),
  ).action(async (options) => done(await (await grants()).runOffboard(options, io)));

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
