import type { Command } from 'commander';
import { EXIT, type Io } from './io.js';
import { choice, instantOption } from './options.js';

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
        `Committed ${`reviews/${c.name}.yaml`} on ${ws.branch} (${result.commit.slice(0, 12)}); ${result.calls} GitHub requests.\n`,
      );
      for (const note of result.notes) io.stderr(`iden: ${note}\n`);
      done(EXIT.ok);
    });
  void instantOption;
}
