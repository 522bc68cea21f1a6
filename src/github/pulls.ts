import { github, type PullContext } from './client.js';

/**
 * The pull-request calls of access reviews, each one request (or one per
 * page of 100), so a campaign's GitHub use is counted per reviewer: its
 * state, its reviews, its merge, a comment.
 */

export interface PullState {
  number: number;
  head: string;
  headRef: string;
  merged: boolean;
  mergedAt?: string;
  open: boolean;
}

export async function pullState(ctx: PullContext, number: number): Promise<PullState> {
  const { owner, repo, octokit } = ctx;
  const { data } = await github(`reading pull request #${number}`, () =>
    octokit.rest.pulls.get({ owner, repo, pull_number: number }),
  );
  return {
    number,
    head: data.head.sha,
    headRef: data.head.ref,
    merged: data.merged_at !== null,
    ...(data.merged_at ? { mergedAt: data.merged_at } : {}),
    open: data.state === 'open',
  };
}

/** Each reviewer's reviews, oldest first: login, state, the commit reviewed and when. */
export async function pullReviews(
  ctx: PullContext,
  number: number,
): Promise<{ login: string; state: string; commit: string; at: string }[]> {
  const { owner, repo, octokit } = ctx;
  const reviews = await github(`reading the reviews of #${number}`, () =>
    octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: number, per_page: 100 }),
  );
  return reviews.map((r) => ({
    login: r.user?.login ?? '',
    state: r.state,
    commit: r.commit_id ?? '',
    at: r.submitted_at ?? '',
  }));
}

/** Merges the pull request if its head is still `sha` (GitHub answers 409 otherwise); the merge commit. */
export async function mergePull(
  ctx: PullContext,
  number: number,
  sha: string,
  title: string,
  message: string,
): Promise<string> {
  const { owner, repo, octokit } = ctx;
  const { data } = await github(`merging pull request #${number}`, () =>
    octokit.rest.pulls.merge({
      owner,
      repo,
      pull_number: number,
      sha,
      merge_method: 'merge',
      commit_title: title,
      commit_message: message,
    }),
  );
  return data.sha;
}

export async function commentOn(ctx: PullContext, number: number, body: string): Promise<void> {
  const { owner, repo, octokit } = ctx;
  await github(`commenting on #${number}`, () =>
    octokit.rest.issues.createComment({ owner, repo, issue_number: number, body }),
  );
}

export async function commentBodies(ctx: PullContext, number: number): Promise<string[]> {
  const { owner, repo, octokit } = ctx;
  const comments = await github(`reading the comments of #${number}`, () =>
    octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 }),
  );
  return comments.map((c) => c.body ?? '');
}
