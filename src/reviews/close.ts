import { OperatorError } from '../errors.js';
import { commitOnto, fetchBranches, pushCommits } from '../git/review.js';
import { commentOn, mergePull, pullReviews, pullState } from '../github/pulls.js';
import { isoUtc, parseTime } from '../model/time.js';
import type { Campaign, CampaignReviewer } from './campaign.js';
import { decisionTrailer, type ItemDecision } from './decide.js';
import { approvalOf, gather } from './gather.js';
import { judgeHead } from './judge-head.js';
import { proposeEnd } from './propose.js';
import { nameOf, type ReviewWorkspace, readCampaign } from './workspace.js';

export interface ClosedReviewer {
  person: string;
  pr?: number;
  /** not-merged: the rebuilt head fails the access policy (iden/policy set to failure on it). */
  outcome: 'merged' | 'merged-already' | 'no-pull-request' | 'not-merged';
  merge?: string;
  /** Why it was not merged: the judge's first reason, as check-pr gives it. */
  why?: string;
  decisions: ItemDecision[];
}

export interface CloseResult {
  campaign: Campaign;
  reviewers: ClosedReviewer[];
  calls: number;
}

/**
 * Closes a campaign at or after its due date: each reviewer's pull request
 * is rebuilt on the protected branch as it is now (an item whose grant
 * changed there meanwhile drops out), with what nobody kept ending, and
 * merged as it stands, if its head is still what was read and check-pr's
 * judge lets it (judgeHead: the close sets iden/policy on the head it
 * pushed, as no workflow runs for it). A merged pull request is left as it
 * is, so closing twice changes nothing; one the judge refuses is left open,
 * and the others still close.
 */
export async function closeCampaign(ws: ReviewWorkspace, name: string, at: number): Promise<CloseResult> {
  const campaign = await readCampaign(ws, name);
  const due = parseTime(campaign.due, ws.zone);
  if (due.ok && at < due.at)
    throw new OperatorError(
      `${name} is due ${campaign.due}: it closes then (iden review close ${name} --at ${campaign.due})`,
    );
  if (!ws.github)
    throw new OperatorError('closing merges pull requests: set GITHUB_TOKEN (and GITHUB_REPOSITORY)');
  const github = ws.github;
  let calls = 0;
  const out: ClosedReviewer[] = [];
  let tip = ws.tip;
  for (const reviewer of campaign.reviewers) {
    if (reviewer.pr === undefined) {
      out.push({ person: reviewer.person, outcome: 'no-pull-request', decisions: [] });
      continue;
    }
    const state = await pullState(github, reviewer.pr);
    calls++;
    if (state.merged) {
      out.push({ person: reviewer.person, pr: reviewer.pr, outcome: 'merged-already', decisions: [] });
      continue;
    }
    const reviews = await pullReviews(github, reviewer.pr);
    calls++;
    const heads = await fetchBranches(ws.root, [reviewer.branch, ws.branch], ws.remote);
    const head = heads.get(reviewer.branch);
    tip = heads.get(ws.branch) ?? tip;
    if (!head)
      throw new OperatorError(`${ws.remote} has no branch ${reviewer.branch} for the open #${reviewer.pr}`);
    const approved = approvalOf(reviews, reviewer.login, head);
    const got = await gather(ws.root, campaign, reviewer, head, tip, approved, true, ws.zone);
    const decisions = got.decisions.map((d) =>
      d.decision === 'ended-by-default' ? { ...d, at: isoUtc(at) } : d,
    );
    const changes = new Map<string, string>();
    for (const d of decisions) {
      if (d.decision !== 'ended-by-review' && d.decision !== 'ended-by-default') continue;
      const sooner = d.note === 'ends sooner than proposed';
      changes.set(
        d.file,
        sooner ? got.branchText.get(d.file)! : proposeEnd(got.baseText.get(d.file)!, campaign.end, name),
      );
    }
    const trailerBlock = decisions.map(decisionTrailer).join('\n');
    const summary = counts(decisions);
    const close = await commitOnto(ws.root, {
      parents: [tip],
      changes,
      message: `Close access review ${name} for ${nameOf(ws.repo, reviewer.person)}: ${summary}\n\nIden-Review: ${name}\nIden-Close: ${reviewer.person}\n${trailerBlock}\n`,
      date: isoUtc(at),
    });
    const refused = await pushCommits(ws.root, ws.remote, [
      { commit: close, branch: reviewer.branch, lease: head },
    ]);
    if (refused)
      throw new OperatorError(
        `could not update ${reviewer.branch} (someone pushed to it meanwhile?): ${refused}; run close again`,
      );
    const verdict = await judgeHead(github, {
      root: ws.root,
      branch: ws.branch,
      tip,
      pr: reviewer.pr,
      head: close,
      at,
    });
    calls += verdict.calls;
    if (!verdict.ok) {
      out.push({
        person: reviewer.person,
        pr: reviewer.pr,
        outcome: 'not-merged',
        decisions,
        ...(verdict.why !== undefined ? { why: verdict.why } : {}),
      });
      continue;
    }
    const merge = await mergePull(
      github,
      reviewer.pr,
      close,
      `Close access review ${name}: ${reviewer.person} (#${reviewer.pr})`,
      `Iden-Review: ${name}\nIden-Close: ${reviewer.person}\n`,
    );
    calls++;
    await commentOn(github, reviewer.pr, closeComment(name, reviewer, decisions, campaign.end));
    calls++;
    tip = (await fetchBranches(ws.root, [ws.branch], ws.remote)).get(ws.branch) ?? tip;
    out.push({ person: reviewer.person, pr: reviewer.pr, outcome: 'merged', merge, decisions });
  }
  return { campaign, reviewers: out, calls };
}

export function counts(decisions: readonly ItemDecision[]): string {
  const n = (k: ItemDecision['decision']) => decisions.filter((d) => d.decision === k).length;
  return `${n('kept')} kept, ${n('ended-by-review') + n('ended-by-default')} ending (${n('ended-by-default')} by default), ${n('dropped')} dropped out`;
}

function closeComment(
  name: string,
  reviewer: CampaignReviewer,
  decisions: ItemDecision[],
  end: string,
): string {
  const line = (d: ItemDecision) => {
    const what = `\`${d.file}\``;
    switch (d.decision) {
      case 'kept':
        return `- ${what}: kept by ${d.by}${d.reason ? `: ${d.reason}` : ''}`;
      case 'ended-by-review':
        return `- ${what}: ends ${end}, by review${d.note ? ` (${d.note})` : ''}`;
      case 'ended-by-default':
        return `- ${what}: ends ${end} by default: not kept by the due date${d.note ? ` (${d.note})` : ''}`;
      default:
        return `- ${what}: dropped out of the campaign: ${d.note ?? ''}; its file on the protected branch is left as it is`;
    }
  };
  return [
    `<!-- iden-review-close ${name} ${reviewer.person} -->`,
    `**Access review ${name} closed** for ${reviewer.person}: ${counts(decisions)}. Rebased on the protected branch and merged as it stood.`,
    '',
    ...decisions.map(line),
  ].join('\n');
}
