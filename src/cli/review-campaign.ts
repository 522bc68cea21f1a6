import type { Command } from 'commander';
import type { Instant } from '../model/time.js';
import type { ReviewWorkspace } from '../reviews/workspace.js';
import { count } from '../util/plural.js';
import { EXIT, type Io } from './io.js';
import { choice } from './options.js';
import { type OneOrAll, oneOrAll } from './review-duties.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `iden review start|keep|close|remind`: what changes a campaign. The work is in src/reviews/. */
export function campaignCommands(review: Command, io: Io, done: (code: number) => void): void {
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
      const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
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
        env: io.env,
        clock: io.clock,
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
      const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
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
    .argument('[campaign]', 'the campaign name (or --all)')
    .option('--all', 'every open campaign past its due date (what the schedule runs)')
    .option('--at <iso>', 'close as of this instant instead of now')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string | undefined, options: OneOrAll) => {
      const { closeCampaign } = await import('../reviews/close.js');
      const { closeRefused, printClose } = await import('../reviews/print.js');
      const one = async (ws: ReviewWorkspace, n: string, at: Instant) => {
        const result = await closeCampaign(ws, n, at);
        return { text: printClose(result), failed: closeRefused(result) };
      };
      done(await oneOrAll(io, name, options, 'close', one, 'No campaign past its due date.\n'));
    });

  review
    .command('remind')
    .description(
      'remind reviewers with items not answered, at the lead times before the due date (a PR comment and the notify webhook)',
    )
    .argument('[campaign]', 'the campaign name (or --all)')
    .option('--all', 'every open campaign whose lead time is reached (what the schedule runs)')
    .option('--at <iso>', 'as of this instant instead of now')
    .option('--repo <dir>', 'the access repository root', '.')
    .action(async (name: string | undefined, options: OneOrAll) => {
      const { remindCampaign } = await import('../reviews/remind.js');
      const { printReminders } = await import('../reviews/print.js');
      const one = async (ws: ReviewWorkspace, n: string, at: Instant) => {
        const { reminders, calls } = await remindCampaign(ws, n, at, io.env);
        return { text: printReminders(reminders, calls), failed: false };
      };
      done(await oneOrAll(io, name, options, 'remind', one, 'No reminder due.\n'));
    });
}
