import { parseTime } from '../model/time.js';
import { type Campaign, leadTimes } from './campaign.js';
import { type CloseResult, closeCampaign } from './close.js';
import { parseSpan } from './dates.js';
import { closesOf } from './history.js';
import { type Reminder, remindCampaign } from './remind.js';
import { campaignNames, type ReviewWorkspace, readCampaign } from './workspace.js';

/**
 * What the schedule owes the open campaigns (the scheduled workflow's
 * `iden review close --all` / `remind --all`, and `iden serve`): close each
 * one past its due date, remind at each lead time reached before it. Read
 * from git alone (the campaign files and the close commits on the protected
 * branch), so deciding costs no GitHub request; only acting does.
 */

export interface OpenCampaign {
  campaign: Campaign;
  /** Its due instant. */
  due: number;
  /** The lead times before it, as written, with their instants. */
  leads: { text: string; at: number }[];
}

/** Campaigns on the branch at `tip` with a reviewer pull request not closed yet. */
export async function openCampaigns(
  ws: Pick<ReviewWorkspace, 'root' | 'tip' | 'zone' | 'repo'>,
): Promise<OpenCampaign[]> {
  const out: OpenCampaign[] = [];
  for (const name of await campaignNames(ws)) {
    const campaign = await readCampaign(ws, name);
    const closed = new Set((await closesOf(ws.root, campaign, ws.tip)).map((c) => c.person));
    if (!campaign.reviewers.some((r) => r.pr !== undefined && !closed.has(r.person))) continue;
    const due = parseTime(campaign.due, ws.zone);
    if (!due.ok) continue;
    const texts = leadTimes(campaign, ws.repo);
    const leads = texts.flatMap((text) => {
      const ms = parseSpan(text);
      return ms === undefined ? [] : [{ text, at: due.at - ms }];
    });
    out.push({ campaign, due: due.at, leads });
  }
  return out;
}

/** The most urgent lead time reached at `now` before the due date, if any. */
export function leadReached(open: OpenCampaign, now: number): string | undefined {
  if (now >= open.due) return undefined;
  return open.leads.filter((l) => now >= l.at).sort((a, b) => b.at - a.at)[0]?.text;
}

/** The next instant after `now` at which something is owed: a due date or a lead time. */
export function nextDuty(open: readonly OpenCampaign[], now: number): number | undefined {
  const later = open.flatMap((o) => [o.due, ...o.leads.map((l) => l.at)]).filter((at) => at > now);
  return later.length > 0 ? Math.min(...later) : undefined;
}

export type DutyOutcome =
  | { campaign: string; action: 'close'; result: CloseResult }
  | { campaign: string; action: 'remind'; lead: string; reminders: Reminder[]; calls: number }
  | { campaign: string; action: 'close' | 'remind'; error: string };

/**
 * Does what is owed at `now`: closes every open campaign past its due date
 * and reminds on every one whose lead time is reached (`skipRemind` leaves
 * out those already reminded at that lead, as serve remembers). One
 * campaign's failure is reported and the others still run.
 */
export async function runDuties(
  ws: ReviewWorkspace,
  now: number,
  env: NodeJS.ProcessEnv,
  which: { close: boolean; remind: boolean; skipRemind?: (campaign: string, lead: string) => boolean },
): Promise<DutyOutcome[]> {
  const out: DutyOutcome[] = [];
  for (const open of await openCampaigns(ws)) {
    const name = open.campaign.name;
    if (now >= open.due) {
      if (!which.close) continue;
      try {
        out.push({ campaign: name, action: 'close', result: await closeCampaign(ws, name, now) });
      } catch (e) {
        out.push({ campaign: name, action: 'close', error: (e as Error).message });
      }
      continue;
    }
    const lead = leadReached(open, now);
    if (!which.remind || !lead || which.skipRemind?.(name, lead)) continue;
    try {
      const { reminders, calls } = await remindCampaign(ws, name, now, env);
      out.push({ campaign: name, action: 'remind', lead, reminders, calls });
    } catch (e) {
      out.push({ campaign: name, action: 'remind', error: (e as Error).message });
    }
  }
  return out;
}
