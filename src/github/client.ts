import { Octokit } from '@octokit/rest';
import type { Review } from '../policy/classify.js';

export class GithubSetupError extends Error {}

export interface PullContext {
  octokit: Octokit;
  owner: string;
  repo: string;
}

/** An octokit for the repository this run is about, from GitHub Actions' variables. */
export function pullContext(env: NodeJS.ProcessEnv): PullContext {
  const token = env.GITHUB_TOKEN;
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  if (!token) throw new GithubSetupError('--pr needs GITHUB_TOKEN');
  if (!owner || !repo)
    throw new GithubSetupError('--pr needs GITHUB_REPOSITORY (owner/name), as GitHub Actions sets it');
  const octokit = new Octokit({
    auth: token,
    baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    request: { retries: 2 },
  });
  return { octokit, owner, repo };
}

export async function readPull(
  ctx: PullContext,
  number: number,
): Promise<{ author: string; head: string; base: string; reviews: Review[] }> {
  const { data: pull } = await ctx.octokit.rest.pulls.get({
    owner: ctx.owner,
    repo: ctx.repo,
    pull_number: number,
  });
  const reviews = await ctx.octokit.paginate(ctx.octokit.rest.pulls.listReviews, {
    owner: ctx.owner,
    repo: ctx.repo,
    pull_number: number,
    per_page: 100,
  });
  return {
    author: pull.user?.login ?? '',
    head: pull.head.sha,
    base: pull.base.sha,
    reviews: reviews.map((r) => ({
      user: r.user ? { login: r.user.login } : null,
      state: r.state,
      commit_id: r.commit_id,
      submitted_at: r.submitted_at ?? null,
    })),
  };
}

/** Updates the one comment that carries `marker`, or creates it: never a new comment per push. */
export async function upsertComment(
  ctx: PullContext,
  number: number,
  marker: string,
  body: string,
): Promise<'created' | 'updated'> {
  const comments = await ctx.octokit.paginate(ctx.octokit.rest.issues.listComments, {
    owner: ctx.owner,
    repo: ctx.repo,
    issue_number: number,
    per_page: 100,
  });
  const mine = comments.find((c) => c.body?.includes(marker));
  if (mine) {
    await ctx.octokit.rest.issues.updateComment({
      owner: ctx.owner,
      repo: ctx.repo,
      comment_id: mine.id,
      body,
    });
    return 'updated';
  }
  await ctx.octokit.rest.issues.createComment({
    owner: ctx.owner,
    repo: ctx.repo,
    issue_number: number,
    body,
  });
  return 'created';
}

export async function setStatus(
  ctx: PullContext,
  sha: string,
  ok: boolean,
  description: string,
): Promise<void> {
  await ctx.octokit.rest.repos.createCommitStatus({
    owner: ctx.owner,
    repo: ctx.repo,
    sha,
    state: ok ? 'success' : 'failure',
    context: 'iden/policy',
    description: description.slice(0, 140),
  });
}
