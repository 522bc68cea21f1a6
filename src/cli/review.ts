import type { Command } from 'commander';
import { instantOption } from '../model/instant.js';
import { count } from '../util/plural.js';
import { EXIT, type Io } from './io.js';
import { choice } from './options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `iden review …`: access-review campaigns (docs/reviews.md). The work is in src/reviews/. */
export function reviewCommands(cli: Command, io: Io, done: (code: number) => void): void {
  const review = cli
    .command('review')
    .description('access reviews: campaigns as pull requests that end unreviewed access');
  review
    .command('start')
    .description('open a campaign: one pull request per reviewer ending every grant in scope unless kept')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--app <id>', 'an app in scope (repeat for more; default every app)', collect, [])
    .option('--privileged', 'only privileged access')
    .option(
      '--not-used-since <duration>',
      'only access not used within this duration, where a connector knows',
    )
    .option(
      '--reviewer <who>',
      'approvers, owners or manager',
      choice('--reviewer', ['approvers', 'owners', 'manager'] as const),
      'approvers',
    )
    .requiredOption('--due <date|duration>', 'the due date, or a duration from now (14d, P30D)')
    .option('--grace <duration>', 'unkept access ends this long after the due date (default 0)')
    .option(
      '--remind <duration>',
      'a lead time before the due date to remind reviewers at (repeat)',
      collect,
      [],
    )
    .option('--name <name>', 'the campaign name (default review-<due>)')
    .action(async (options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { startCampaign } = await import('../reviews/start.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
      const result = await startCampaign(ws, {
        ...(options.name ? { name: options.name } : {}),
        apps: options.app,
        privileged: options.privileged === true,
        ...(options.notUsedSince ? { notUsedSince: options.notUsedSince } : {}),
        reviewer: options.reviewer,
        due: options.due,
        ...(options.grace ? { grace: options.grace } : {}),
        reminders: options.remind,
        now: io.clock.now(),
      });
      const c = result.campaign;
      const total = c.reviewers.reduce((n, r) => n + r.items.length, 0);
      io.stdout(
        `Started ${c.name}: ${total} grant${total === 1 ? '' : 's'} end ${c.end} unless kept; due ${c.due}.\n`,
      );
      for (const r of c.reviewers)
        io.stdout(`  ${r.person}: ${r.items.length} on ${r.branch}${r.pr ? ` (#${r.pr})` : ''}\n`);
      io.stdout(
        `Committed ${`reviews/${c.name}.yaml`} on ${ws.branch} (${result.commit.slice(0, 12)}); ${count(result.calls, 'GitHub request')}.\n`,
      );
      for (const note of result.notes) io.stderr(`iden: ${note}\n`);
      done(EXIT.ok);
    });

  review
    .command('keep')
    .description(
      "keep an item: commit, on its reviewer's campaign branch, the grant without the proposed end",
    )
    .argument('<campaign>', 'the campaign name')
    .requiredOption('--user <id>', 'the grantee (id or email)')
    .option('--app <id>', 'the app, when the grantee has several items')
    .requiredOption('--reason <text>', 'why the access is still needed')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string, options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { keepItem } = await import('../reviews/keep.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
      const result = await keepItem(ws, {
        campaign: name,
        user: options.user,
        ...(options.app ? { app: options.app } : {}),
        reason: options.reason,
        now: io.clock.now(),
      });
      if (result.kept)
        io.stdout(`Kept ${result.file}: committed ${result.commit.slice(0, 12)} on ${result.branch}.\n`);
      else io.stdout(`Nothing to do for ${result.file}: ${result.why}.\n`);
      done(EXIT.ok);
    });

  review
    .command('close')
    .description(
      'merge each campaign pull request as it stands, rebased on the protected branch (at or after the due date)',
    )
    .argument('<campaign>', 'the campaign name')
    .option('--at <iso>', 'close as of this instant instead of now')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string, options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { closeCampaign, counts } = await import('../reviews/close.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
      const at = instantOption('--at', options.at, ws.zone, io.clock.now());
      const result = await closeCampaign(ws, name, at);
      for (const r of result.reviewers) {
        const pr = r.pr !== undefined ? ` #${r.pr}` : '';
        if (r.outcome === 'merged') io.stdout(`${r.person}${pr}: merged (${counts(r.decisions)}).\n`);
        else if (r.outcome === 'merged-already')
          io.stdout(`${r.person}${pr}: merged already; left as it is.\n`);
        else io.stdout(`${r.person}: no pull request to merge (its branch was pushed without GitHub).\n`);
      }
      io.stdout(`${count(result.calls, 'GitHub request')}.\n`);
      done(EXIT.ok);
    });

  review
    .command('status')
    .description('per reviewer: kept, ending, not answered, dropped out')
    .argument('[campaign]', 'the campaign name (default: every campaign)')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string | undefined, options) => {
      const { openWorkspace, campaignNames } = await import('../reviews/workspace.js');
      const { campaignStatus } = await import('../reviews/status.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
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
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
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
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
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

  review
    .command('remind')
    .description(
      'remind reviewers with items not answered, at the lead times before the due date (a PR comment and the notify webhook)',
    )
    .argument('<campaign>', 'the campaign name')
    .option('--at <iso>', 'as of this instant instead of now')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string, options) => {
      const { openWorkspace } = await import('../reviews/workspace.js');
      const { remindCampaign } = await import('../reviews/remind.js');
      const ws = await openWorkspace(io.cwd, options.repo, io.env);
      const at = instantOption('--at', options.at, ws.zone, io.clock.now());
      const { reminders, calls } = await remindCampaign(ws, name, at, io.env);
      if (reminders.length === 0) io.stdout('No reminder due.\n');
      for (const r of reminders)
        io.stdout(
          `Reminded ${r.person} on #${r.pr} (${r.lead} before): ${r.notAnswered} not answered; webhook ${r.webhook}.\n`,
        );
      io.stdout(`${count(calls, 'GitHub request')}.\n`);
      done(EXIT.ok);
    });
}
