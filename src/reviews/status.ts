import { fetchBranches } from '../git/review.js';
import { pullReviews, pullState } from '../github/pulls.js';
import type { Campaign } from './campaign.js';
import type { ItemDecision } from './decide.js';
import { approvalOf, gather } from './gather.js';
import { closesOf } from './history.js';
import { type ReviewWorkspace, readCampaign } from './workspace.js';

export interface ReviewerStatus {
  person: string;
  pr?: number;
  state: 'open' | 'closed';
  kept: number;
  ending: number;
  notAnswered: number;
  dropped: number;
  decisions: Omit<ItemDecision, 'user' | 'app'>[];
}

export interface CampaignStatus {
  campaign: Campaign;
  reviewers: ReviewerStatus[];
}

/** Per reviewer: kept, ending, not answered, dropped out; closed ones as their close recorded them. */
export async function campaignStatus(ws: ReviewWorkspace, name: string): Promise<CampaignStatus> {
  const campaign = await readCampaign(ws, name);
  const closed = await closesOf(ws.root, campaign, ws.tip);
  const heads = await fetchBranches(
    ws.root,
    campaign.reviewers.map((r) => r.branch),
    ws.remote,
  );
  const reviewers: ReviewerStatus[] = [];
  for (const reviewer of campaign.reviewers) {
    const done = closed.find((c) => c.person === reviewer.person);
    let decisions: Omit<ItemDecision, 'user' | 'app'>[];
    let state: ReviewerStatus['state'] = 'open';
    if (done) {
      decisions = done.decisions;
      state = 'closed';
    } else {
      const head = heads.get(reviewer.branch) ?? campaign.base;
      let approved: { at: string } | undefined;
      if (ws.github && reviewer.pr !== undefined) {
        const pull = await pullState(ws.github, reviewer.pr);
        if (!pull.merged)
          approved = approvalOf(await pullReviews(ws.github, reviewer.pr), reviewer.login, head);
      }
      decisions = (await gather(ws.root, campaign, reviewer, head, ws.tip, approved, false, ws.zone))
        .decisions;
    }
    const n = (...k: ItemDecision['decision'][]) => decisions.filter((d) => k.includes(d.decision)).length;
    reviewers.push({
      person: reviewer.person,
      ...(reviewer.pr !== undefined ? { pr: reviewer.pr } : {}),
      state,
      kept: n('kept'),
      ending: n('ended-by-review', 'ended-by-default'),
      notAnswered: n('not-answered'),
      dropped: n('dropped'),
      decisions,
    });
  }
  return { campaign, reviewers };
}
