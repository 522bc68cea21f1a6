import type { Command } from 'commander';
import { instantOption } from '../model/instant.js';
import { EXIT, type Io } from './io.js';
import { choice } from './options.js';

/** `iden review status|report|due`: what a campaign and the cadence say, read only. */
export function reviewReadings(review: Command, io: Io, done: (code: number) => void): void {
  review
    .command('status')
    .description('per reviewer: kept, ending, not answered, dropped out')
    .argument('[campaign]', 'the campaign name (default: every campaign)')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string | undefined, options) => {
      const { openWorkspace, campaignNames } = await import('../reviews/workspace.js');
      const { campaignStatus } = await import('../reviews/status.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
      const names = name ? [name] : await campaignNames(ws);
      const all = [];
      for (const n of names) all.push(await campaignStatus(ws, n));
      if (options.format === 'json') {
        io.stdout(
          `${JSON.stringify(
            all.map((s) => ({
              campaign: s.campaign.name,
              due: s.campaign.due,
              end: s.campaign.end,
              reviewers: s.reviewers,
            })),
            null,
            2,
          )}\n`,
        );
        return done(EXIT.ok);
      }
      if (all.length === 0) io.stdout('No campaigns.\n');
      for (const s of all) {
        io.stdout(`${s.campaign.name}: due ${s.campaign.due}, unkept access ends ${s.campaign.end}\n`);
        for (const r of s.reviewers)
          io.stdout(
            `  ${r.person}${r.pr !== undefined ? ` #${r.pr}` : ''} (${r.state}): ${r.kept} kept, ${r.ending} ending, ${r.notAnswered} not answered, ${r.dropped} dropped out\n`,
          );
      }
      done(EXIT.ok);
    });

  review
    .command('report')
    .description(
      'the evidence: one row per item with its decision, commit, pull request and when it was applied',
    )
    .argument('<campaign>', 'the campaign name')
    .option('--format <format>', 'csv, json or md', choice('--format', ['csv', 'json', 'md'] as const), 'md')
    .option('--at <iso>', 'as of this instant (default: the commit time of the protected branch)')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string, options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { buildReport, formatReport } = await import('../reviews/report.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
      const at =
        options.at === undefined ? undefined : instantOption('--at', options.at, ws.zone, io.clock.now());
      io.stdout(formatReport(await buildReport(ws, name, at), options.format));
      done(EXIT.ok);
    });

  review
    .command('due')
    .description(
      'apps whose review cadence (review: { every: P90D }) says a review is due, and when the next one is',
    )
    .option('--at <iso>', 'as of this instant instead of now')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { dueReviews } = await import('../reviews/due.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
      const at = instantOption('--at', options.at, ws.zone, io.clock.now());
      const rows = await dueReviews(ws, at);
      if (options.format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) io.stdout('No app names a review cadence.\n');
      else
        for (const r of rows)
          io.stdout(
            `${r.overdue ? 'overdue' : 'ok     '}  ${r.app}  every ${r.every}${r.from === 'privileged' ? ' (privileged)' : ''}  last ${r.last ? `${r.last.campaign} ${r.last.at.slice(0, 10)}` : 'never'}  next ${r.next?.slice(0, 10) ?? 'now'}\n`,
          );
      done(EXIT.ok);
    });
}
