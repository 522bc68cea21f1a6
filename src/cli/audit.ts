// iden audit: who had what, when, granted and approved by whom.
import type { Command } from 'commander';
import { OperatorError } from '../errors.js';
import type { AuditFormat } from '../report/audit.js';
import { paint } from '../report/paint.js';
import { colourOn, EXIT, type Io, UsageError } from './io.js';
import { choice, examples } from './options.js';

export interface AuditOptions {
  repo?: string;
  user?: string;
  app?: string;
  since?: string;
  until?: string;
  asOf?: string;
  review?: boolean;
  format: AuditFormat;
}

export function auditCommand(cli: Command, io: Io, done: (code: number) => void): void {
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
    .addHelpText(
      'after',
      examples(
        'iden audit --user alice',
        'iden audit --as-of 2026-10-01 --app github',
        'iden audit --review --format csv > review.csv',
      ),
    )
    .action(async (options: AuditOptions) => done(await runAudit(options, io)));
}

/** Warnings that mean the records were tampered with: the audit still answers, and exits 1. */
const TAMPERED = new Set([
  'record-edited',
  'record-moved',
  'record-forged',
  'record-missing',
  'record-unsigned',
]);

export async function runAudit(options: AuditOptions, io: Io): Promise<number> {
  const [{ repositoryStart }, { startAudit }] = await Promise.all([
    import('../git/state.js'),
    import('../audit/start.js'),
  ]);
  // The root, HEAD and whether the clone is shallow: one git process, HEAD resolved once for the whole audit.
  const { root, git } = await repositoryStart(io.cwd, options.repo);
  // Answered from git history alone: a folder without one would read as a history where nothing happened.
  if (!git)
    throw new OperatorError(
      `${root} is not in a git repository (or git could not be run): iden audit answers from the history of the access repository; run it in a clone of it`,
    );
  if (options.review && (options.user || options.since || options.until))
    throw new UsageError('--review takes --app, --as-of and --format; not --user, --since or --until');
  const now = io.clock.now();
  // The rest of the modules load while git reads the history.
  const modules = Promise.all([
    import('../audit/audit.js'),
    import('../audit/query.js'),
    import('../audit/approvals.js'),
    import('../audit/review.js'),
    import('../model/instant.js'),
    import('../report/audit.js'),
  ]);
  // People and apps are read only where the question names them (they resolve --user and --app).
  const { repo, data } = await startAudit(
    root,
    io.env,
    now,
    { people: options.review === true || options.user !== undefined, apps: options.app !== undefined },
    git,
  );
  const [{ auditAsOf, auditEvents }, { filters, people }, { reviewSource }, review, { atOption }, report] =
    await modules;
  const { reviewRows, rowEvents } = review;
  const { formatAccess, formatEvents, formatReview, formatWarnings } = report;
  options = { ...options, ...filters(options, repo, data.history.commits) };
  const approvals = { source: await reviewSource(root, io.env), env: io.env };
  let out: string;
  if (options.review) {
    const at = options.asOf === undefined ? now : atOption(options.asOf, repo, now, '--as-of');
    const view = await auditAsOf(root, data, at, options.app);
    const events = await auditEvents(
      root,
      data,
      { app: options.app, now, until: at + 1 },
      approvals,
      rowEvents(view),
    );
    out = formatReview(
      view.asOf,
      reviewRows(view, events, people(repo)),
      data.source,
      data.warnings,
      options.format,
    );
  } else if (options.asOf !== undefined) {
    if (options.since || options.until)
      throw new UsageError('--as-of answers one instant: not with --since or --until');
    const view = await auditAsOf(root, data, atOption(options.asOf, repo, now, '--as-of'), options.app);
    const mine = <T extends { user: string }>(list: T[]) =>
      options.user === undefined ? list : list.filter((x) => x.user === options.user);
    out = formatAccess(
      {
        ...view,
        access: mine(view.access),
        unexpected: mine(view.unexpected),
        intended: mine(view.intended),
      },
      data.source,
      data.warnings,
      options.format,
    );
  } else {
    const events = await auditEvents(
      root,
      data,
      {
        user: options.user,
        app: options.app,
        since: options.since === undefined ? undefined : atOption(options.since, repo, now, '--since'),
        until: options.until === undefined ? undefined : atOption(options.until, repo, now, '--until'),
        now,
      },
      approvals,
    );
    out = formatEvents(events, data.source, data.warnings, options.format, paint(colourOn(io)));
  }
  io.stdout(out);
  if (options.format !== 'json') io.stderr(formatWarnings(data.warnings, paint(colourOn(io, 'stderr'))));
  return data.warnings.some((w) => TAMPERED.has(w.code)) ? EXIT.failed : EXIT.ok;
}
