import { readObjects } from '../git/blobs.js';
import { changedPaths } from '../git/diff.js';
import { github, type PullContext, readPull } from '../github/client.js';
import { zoneOf } from '../model/time.js';
import type { FileVerdict, Review } from './classify.js';
import type { PullCommit } from './contributors.js';
import { judgeChange } from './judge.js';
import { readChange } from './read-change.js';
import { recentRevocations } from './revocations.js';

/** A merged pull request as verification and the audit keep it: what judging it needs, nothing that changes after merge. */
export interface MergedPull {
  number: number;
  url: string;
  author: string;
  authorId?: number;
  head: string;
  mergedAt: string;
  mergedBy?: string;
  /** Reviews submitted by the merge: later ones cannot have let it in. */
  reviews: Review[];
  commits: PullCommit[];
  commitCount: number;
}

/**
 * How a pull request landed on the protected branch: the first-parent
 * commits from `start` to `merge` are its (one for a merge or a squash, one
 * per commit for "Rebase and merge"), made on `parent`.
 */
export interface Landing {
  pull: MergedPull;
  parent: string;
  start: string;
  merge: string;
}

/**
 * The merged pull request that brought first-parent commit `sha` of the
 * protected branch, or null when none did (a direct push). `line` is the
 * branch's first-parent commits, oldest first. A pull request counts only
 * when its merge commit is on that line at or after `sha`, and `sha` lies
 * within what the merge brought.
 */
export async function findLanding(
  ctx: PullContext,
  root: string,
  line: readonly string[],
  sha: string,
): Promise<Landing | null> {
  const { octokit, owner, repo } = ctx;
  const index = new Map(line.map((c, i) => [c, i]));
  const at = index.get(sha);
  if (at === undefined) return null;
  const { data } = await github(`finding the pull request that brought ${sha.slice(0, 12)}`, () =>
    octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha, per_page: 100 }),
  );
  const merged = data
    .filter((p) => p.merged_at && p.merge_commit_sha && (index.get(p.merge_commit_sha) ?? -1) >= at)
    .sort((a, b) => index.get(a.merge_commit_sha!)! - index.get(b.merge_commit_sha!)!)[0];
  if (!merged) return null;
  const merge = merged.merge_commit_sha!;
  const pull = await readPull(ctx, merged.number);
  const mergedAt = pull.mergedAt ?? merged.merged_at!;
  const facts: MergedPull = {
    number: merged.number,
    url: pull.url,
    author: pull.author,
    ...(pull.authorId !== undefined ? { authorId: pull.authorId } : {}),
    head: pull.head,
    mergedAt,
    ...(pull.mergedBy ? { mergedBy: pull.mergedBy } : {}),
    reviews: pull.reviews.filter(
      (r) => !r.submitted_at || Date.parse(r.submitted_at) <= Date.parse(mergedAt),
    ),
    commits: pull.commits,
    commitCount: pull.commitCount,
  };
  const end = index.get(merge)!;
  const start = (await rebased(root, line, end, pull.commits)) ? end - pull.commits.length + 1 : end;
  if (at < start || end < 1) return null;
  return { pull: facts, parent: line[start - 1]!, start: line[start]!, merge };
}

/**
 * Whether the pull request landed by "Rebase and merge": its commits, in
 * order, are the single-parent first-parent commits ending at `end`, each
 * keeping its author, author date and message (a rebase keeps them; a squash
 * makes one new commit).
 */
async function rebased(
  root: string,
  line: readonly string[],
  end: number,
  commits: readonly PullCommit[],
): Promise<boolean> {
  const n = commits.length;
  if (n < 2 || end - n + 1 < 1) return false;
  const landed = line.slice(end - n + 1, end + 1);
  const objects = await readObjects(root, landed);
  return landed.every((sha, i) => {
    const text = objects.get(sha)?.data.toString('utf8') ?? '';
    const head = text.slice(0, text.indexOf('\n\n'));
    if ((head.match(/^parent /gm) ?? []).length !== 1) return false;
    const author = /^author .* <([^>]*)> (\d+) [+-]\d{4}$/m.exec(head);
    const message = text.slice(text.indexOf('\n\n') + 2).trim();
    const original = commits[i]!.commit;
    const date = original.author?.date ? Date.parse(original.author.date) / 1000 : undefined;
    return (
      author !== null &&
      author[1]!.toLowerCase() === (original.author?.email ?? '').toLowerCase() &&
      (date === undefined || Number(author[2]) === date) &&
      (original.message === undefined || original.message.trim() === message)
    );
  });
}

/**
 * The one judge's verdicts on everything a landing brought: the difference
 * from its parent to its merge, judged by the policy of the protected branch
 * as it stood at the parent, with the reviews given before the merge.
 */
export async function judgeLanding(root: string, landing: Landing): Promise<Map<string, FileVerdict>> {
  const { pull, parent, merge } = landing;
  const changed = await changedPaths(root, parent, merge);
  const { before, after } = await readChange(root, parent, merge, changed);
  const verdicts = judgeChange({
    policy: before,
    before,
    after,
    changed,
    pull: {
      author: { login: pull.author, ...(pull.authorId !== undefined ? { id: pull.authorId } : {}) },
      head: pull.head,
      commits: pull.commits,
      commitCount: pull.commitCount,
      reviews: pull.reviews,
    },
    revoked: await recentRevocations(root, parent, Date.parse(pull.mergedAt), zoneOf(before)),
  });
  return new Map(verdicts.map((v) => [v.file, v]));
}
