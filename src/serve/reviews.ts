import type { Committed } from '../load/committed.js';
import type { Clock, Timer } from '../model/clock.js';
import { isoUtc, zoneOf } from '../model/time.js';
import { leadReached, nextDuty, type OpenCampaign, openCampaigns, runDuties } from '../reviews/duties.js';
import { openWorkspace } from '../reviews/workspace.js';
import type { Logger } from './log.js';

export interface ReviewDuties {
  /**
   * Called by the daemon after each run, in its loop (so never while another
   * git operation of the daemon runs): closes the campaigns past their due
   * date and reminds at the lead times reached, then sets a timer at the
   * next such instant.
   */
  run(committed: Committed | undefined): Promise<void>;
  stop(): void;
}

/**
 * Access-review campaigns under `iden serve`: the same duties as the
 * scheduled workflow's `iden review close --all` and `remind --all`, done at
 * the due date and each lead time on the daemon's clock. Deciding what is
 * owed reads git only; GitHub is asked only when something is owed, and a
 * lead already reminded here is not asked again (the comment's marker keeps
 * a restart from reminding twice).
 */
export function reviewDuties(options: {
  root: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Logger;
  /** Asks the daemon for a run, whose end calls run() again. */
  wake: (why: string) => void;
}): ReviewDuties {
  const { clock, log } = options;
  let timer: Timer | undefined;
  let stopped = false;
  let warned = false;
  const reminded = new Set<string>();
  /** The commit last read, and the next instant something is owed. */
  let seen: string | undefined;
  let due: number | undefined;

  const arm = (open: readonly OpenCampaign[]) => {
    timer?.cancel();
    timer = undefined;
    const next = nextDuty(open, clock.now());
    due = next;
    if (stopped || next === undefined) return;
    timer = clock.at(next, () => options.wake(`an access review is owed at ${isoUtc(next)}`));
  };

  return {
    async run(committed) {
      if (stopped || !committed?.commit) return;
      try {
        const now = clock.now();
        // Nothing new on the branch and nothing owed before the timer: no git call at all.
        if (committed.commit === seen && (due === undefined || now < due)) return;
        seen = committed.commit;
        const local = { root: options.root, tip: committed.commit, repo: committed.repo };
        let open = await openCampaigns({ ...local, zone: zoneOf(committed.repo) });
        const owed = open.some((o) => {
          const lead = leadReached(o, now);
          return now >= o.due || (lead !== undefined && !reminded.has(`${o.campaign.name}\u0000${lead}`));
        });
        if (owed && !options.env.GITHUB_TOKEN) {
          if (!warned)
            log('warn', 'reviews', {
              text: 'a campaign is due or owes a reminder, but without GITHUB_TOKEN serve cannot close or remind it',
            });
          warned = true;
        } else if (owed) {
          // Acting reads the remote's protected branch afresh, as the commands do.
          const ws = await openWorkspace(options.root, undefined, options.env, clock);
          const outcomes = await runDuties(ws, now, options.env, {
            close: true,
            remind: true,
            skipRemind: (campaign, lead) => reminded.has(`${campaign}\u0000${lead}`),
          });
          let failed = false;
          for (const o of outcomes) {
            if ('error' in o) {
              failed = true;
              log('error', 'review', { campaign: o.campaign, action: o.action, error: o.error });
              continue;
            }
            if (o.action === 'close') {
              // A pull request the access policy refuses stays open: a change on the branch brings the close back.
              const refused = o.result.reviewers.filter((r) => r.outcome === 'not-merged');
              log(refused.length > 0 ? 'warn' : 'info', 'review closed', {
                campaign: o.campaign,
                merged: o.result.reviewers.filter((r) => r.outcome === 'merged').length,
                ...(refused.length > 0
                  ? { notMerged: refused.map((r) => `${r.person} #${r.pr}: ${r.why ?? ''}`) }
                  : {}),
                requests: o.result.calls,
              });
            } else {
              reminded.add(`${o.campaign}\u0000${o.lead}`);
              log('info', 'review reminded', {
                campaign: o.campaign,
                lead: o.lead,
                reviewers: o.reminders.map((r) => r.person),
                requests: o.calls,
              });
            }
          }
          // A close that failed stays owed: tried again at the next run, whatever the commit.
          if (failed) seen = undefined;
          open = open.filter((o) => now < o.due);
        }
        arm(open);
      } catch (e) {
        seen = undefined;
        log('error', 'review', { error: (e as Error).message });
      }
    },
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
