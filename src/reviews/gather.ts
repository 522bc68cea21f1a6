import { readBlobs } from '../git/blobs.js';
import { blobsAt, commitsIn } from '../git/review.js';
import type { Campaign, CampaignReviewer } from './campaign.js';
import { decide, type ItemDecision, type Keep, trailers } from './decide.js';

export interface Gathered {
  head: string;
  baseText: Map<string, string>;
  branchText: Map<string, string>;
  decisions: ItemDecision[];
}

/** The keeps `iden review keep` recorded on a branch since the campaign's base. */
export async function keepsOn(
  root: string,
  base: string,
  head: string,
): Promise<{ keeps: Keep[]; headAt: string }> {
  const commits = await commitsIn(root, `${base}..${head}`);
  const keeps: Keep[] = [];
  for (const c of commits) {
    const t = trailers(c.message);
    const file = t.get('Keep')?.[0];
    if (!file) continue;
    keeps.push({
      file,
      by: t.get('Reviewer')?.[0] ?? '',
      reason: t.get('Reason')?.[0] ?? '',
      at: t.get('At')?.[0] ?? c.date,
      commit: c.sha,
    });
  }
  return { keeps, headAt: commits.at(-1)?.date ?? '' };
}

/** What git says of a reviewer's items now: the branch against the base and the protected branch's tip. */
export async function gather(
  root: string,
  campaign: Campaign,
  reviewer: CampaignReviewer,
  head: string,
  tip: string,
  approved: { at: string } | undefined,
  closing: boolean,
  zone: string,
): Promise<Gathered> {
  const files = reviewer.items.map((i) => i.file);
  const [tipBlob, branchBlob] = await Promise.all([blobsAt(root, tip, files), blobsAt(root, head, files)]);
  const texts = await readBlobs(root, [...reviewer.items.map((i) => i.blob), ...branchBlob.values()]);
  const baseText = new Map(reviewer.items.map((i) => [i.file, texts.get(i.blob) ?? '']));
  const branchText = new Map([...branchBlob].map(([f, b]) => [f, texts.get(b) ?? '']));
  const { keeps, headAt } = await keepsOn(root, campaign.base, head);
  const decisions = decide({
    campaign: campaign.name,
    reviewer: reviewer.person,
    items: reviewer.items,
    baseText,
    tipBlob,
    branchText,
    keeps,
    approved,
    closing,
    zone,
    headAt: headAt || campaign.started,
  });
  return { head, baseText, branchText, decisions };
}

/** Whether the reviewer's latest verdict approves the head, and when. */
export function approvalOf(
  reviews: readonly { login: string; state: string; commit: string; at: string }[],
  login: string | undefined,
  head: string,
): { at: string } | undefined {
  if (!login) return undefined;
  const mine = reviews.filter(
    (r) => r.login.toLowerCase() === login.toLowerCase() && r.state !== 'COMMENTED' && r.state !== 'PENDING',
  );
  const last = mine.at(-1);
  return last?.state === 'APPROVED' && last.commit === head ? { at: last.at } : undefined;
}
