import { isoUtc } from '../model/time.js';
import type { Campaign } from './campaign.js';
import { parseSpan } from './dates.js';
import { closesOf } from './history.js';
import { isPrivileged } from './scope.js';
import { campaignNames, type ReviewWorkspace, readCampaign } from './workspace.js';

export interface DueRow {
  app: string;
  /** Where the cadence comes from: the app's review.every, or the settings' for privileged access. */
  from: 'app' | 'privileged';
  every: string;
  /** The last campaign that closed over this app, and when. */
  last?: { campaign: string; at: string };
  /** When the next review is due; absent when it never was reviewed. */
  next?: string;
  overdue: boolean;
}

/**
 * Apps with a review cadence and when each is next due: the app's
 * `review.every`, else, for an app holding privileged access, the settings'
 * `reviews.every`. The last review is the latest close, on the protected
 * branch, of a campaign whose scope covered the app.
 */
export async function dueReviews(ws: ReviewWorkspace, now: number): Promise<DueRow[]> {
  const campaigns: Campaign[] = [];
  for (const name of await campaignNames(ws)) campaigns.push(await readCampaign(ws, name));
  const closedAt = new Map<string, number>();
  for (const c of campaigns) {
    const closes = await closesOf(ws.root, c, ws.tip);
    if (closes.length > 0) closedAt.set(c.name, Math.max(...closes.map((x) => Date.parse(x.close.date))));
  }
  const settingsEvery = (ws.repo.settings?.raw?.reviews as { every?: unknown } | undefined)?.every;
  const rows: DueRow[] = [];
  for (const [id, app] of [...ws.repo.apps].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const own = (app.raw?.review as { every?: unknown } | undefined)?.every;
    const entitlements = Array.isArray(app.raw?.entitlements)
      ? (app.raw.entitlements as { id?: unknown }[])
      : [];
    const privileged = isPrivileged(
      ws.repo,
      id,
      entitlements.map((e) => String(e.id)),
    );
    const every =
      typeof own === 'string'
        ? own
        : privileged && typeof settingsEvery === 'string'
          ? settingsEvery
          : undefined;
    const span = every === undefined ? undefined : parseSpan(every);
    if (every === undefined || span === undefined) continue;
    let last: DueRow['last'];
    for (const c of campaigns) {
      const at = closedAt.get(c.name);
      const covers = !c.scope.apps || c.scope.apps.includes(id);
      if (at !== undefined && covers && (!last || at > Date.parse(last.at)))
        last = { campaign: c.name, at: isoUtc(at) };
    }
    const next = last ? Date.parse(last.at) + span : undefined;
    rows.push({
      app: id,
      from: typeof own === 'string' ? 'app' : 'privileged',
      every,
      ...(last ? { last } : {}),
      ...(next !== undefined ? { next: isoUtc(next) } : {}),
      overdue: next === undefined || next <= now,
    });
  }
  return rows;
}
