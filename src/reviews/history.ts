import { commitsIn, type LoggedCommit } from '../git/review.js';
import type { Campaign } from './campaign.js';
import { type ItemDecision, parseDecision, trailers } from './decide.js';

export interface ClosedOnBranch {
  person: string;
  /** The close commit (the merged pull request's head), and the merge commit on the protected branch. */
  close: LoggedCommit;
  merge?: LoggedCommit;
  pr?: number;
  decisions: Omit<ItemDecision, 'user' | 'app'>[];
}

/**
 * The closes of a campaign that the protected branch holds at `ref`, read
 * from commit messages alone (the close commit's Iden-Decision trailers), so
 * the same commit gives the same answer in any clone.
 */
export async function closesOf(root: string, campaign: Campaign, ref: string): Promise<ClosedOnBranch[]> {
  const all = await commitsIn(root, `${campaign.base}..${ref}`);
  const out: ClosedOnBranch[] = [];
  for (const c of all) {
    const t = trailers(c.message);
    if (t.get('Review')?.[0] !== campaign.name) continue;
    const person = t.get('Close')?.[0];
    if (!person || !t.has('Decision')) continue;
    const merge = all.find(
      (m) =>
        m.sha !== c.sha &&
        trailers(m.message).get('Close')?.[0] === person &&
        !trailers(m.message).has('Decision') &&
        trailers(m.message).get('Review')?.[0] === campaign.name,
    );
    const pr = merge ? Number(/\(#(\d+)\)/.exec(merge.message)?.[1]) : undefined;
    out.push({
      person,
      close: c,
      ...(merge ? { merge } : {}),
      ...(pr ? { pr } : {}),
      decisions: (t.get('Decision') ?? []).flatMap((v) => parseDecision(v) ?? []),
    });
  }
  return out;
}
