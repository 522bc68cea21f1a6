// Each app's access reviews for the report: the cadence, the last campaign
// that closed over it and the next due, as `iden review due` computes them
// (reviews/due.ts) at the commit the report is made from; for an app without
// a cadence, its last review all the same.
import type { AccessRepo } from '../model/repo.js';
import { type Instant, isoUtc } from '../model/time.js';
import { dueReviews } from '../reviews/due.js';
import { closesOf } from '../reviews/history.js';
import { campaignNames, readCampaign } from '../reviews/workspace.js';
import type { AppReview } from './site-app.js';

export async function reviewsOf(
  root: string,
  commit: string,
  repo: AccessRepo,
  zone: string,
  at: Instant,
): Promise<Map<string, AppReview>> {
  // What the review commands read of their workspace: the repository at a commit.
  const ws = {
    root,
    tip: commit,
    repo,
    zone,
    remote: '',
    branch: '',
    me: undefined,
    email: undefined,
    github: undefined,
  };
  const out = new Map<string, AppReview>();
  for (const row of await dueReviews(ws, at))
    out.set(row.app, {
      every: row.every,
      from: row.from,
      ...(row.last ? { last: row.last } : {}),
      ...(row.next ? { next: row.next } : {}),
      overdue: row.overdue,
    });
  const rest = [...repo.apps.keys()].filter((id) => !out.has(id));
  const names = rest.length > 0 ? await campaignNames(ws) : [];
  for (const name of names) {
    const campaign = await readCampaign(ws, name);
    const closes = await closesOf(root, campaign, commit);
    if (closes.length === 0) continue;
    const closed = Math.max(...closes.map((c) => Date.parse(c.close.date)));
    for (const id of rest) {
      if (campaign.scope.apps && !campaign.scope.apps.includes(id)) continue;
      const known = out.get(id)?.last;
      if (!known || closed > Date.parse(known.at))
        out.set(id, { last: { campaign: name, at: isoUtc(closed) }, overdue: false });
    }
  }
  return out;
}
