import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import { OperatorError, UsageError } from '../errors.js';
import type { Review } from '../policy/classify.js';
import type { PullCommit } from '../policy/contributors.js';
import { deadlineFetch } from './repository.js';

/** GitHub is not set up for what was asked (no token, no repository): a usage error, exit 2. */
export class GithubSetupError extends UsageError {}

/** A GitHub request that failed: one line with the status and the route, never the token. */
export class GithubError extends OperatorError {}

export interface PullContext {
  octokit: Octokit;
  owner: string;
  repo: string;
  env: NodeJS.ProcessEnv;
}

/** An octokit for the repository this run is about, from GitHub Actions' variables. */
export function pullContext(env: NodeJS.ProcessEnv): PullContext {
  if (!env.GITHUB_TOKEN) throw new GithubSetupError('--pr needs GITHUB_TOKEN');
  if (!/^[^/]+\/[^/]+$/.test(env.GITHUB_REPOSITORY ?? ''))
    throw new GithubSetupError('--pr needs GITHUB_REPOSITORY (owner/name), as GitHub Actions sets it');
  return repoContext(env, env.GITHUB_REPOSITORY!);
}

/** An octokit for `owner/name` with GITHUB_TOKEN, at GITHUB_API_URL (Enterprise Server) or api.github.com. */
export function repoContext(env: NodeJS.ProcessEnv, repository: string): PullContext {
  const [owner = '', repo = ''] = repository.split('/');
  const octokit = new Octokit({
    auth: env.GITHUB_TOKEN,
    baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    // Every request to GitHub has a deadline: a check that hangs would hold the pull request's status.
    request: { retries: 2, fetch: deadlineFetch(30_000) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { octokit, owner, repo, env };
}

/** Runs a GitHub call, turning a failure into one line an operator can act on. */
export async function github<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof RequestError) {
      const url = new URL(e.request.url);
      const route = `${e.request.method} ${url.pathname}`;
      // octokit reports a request that got no answer at all as a 500 without a response.
      if (e.response === undefined)
        throw new GithubError(`${what}: could not reach GitHub at ${url.origin} (${route}): ${e.message}`, {
          cause: e,
        });
      throw new GithubError(`${what}: GitHub answered ${e.status} to ${route}: ${e.message}`, { cause: e });
    }
    throw new GithubError(`${what}: ${(e as Error).message}`, { cause: e });
  }
}

export interface Pull {
  author: string;
  /** The author's numeric GitHub id. */
  authorId?: number;
  head: string;
  base: string;
  /** The branch it merges into, and the repository's default branch. */
  baseRef: string;
  defaultBranch: string;
  reviews: Review[];
  commits: PullCommit[];
  commitCount: number;
  url: string;
  /** When it was merged, and by whom (GitHub login); absent while open. */
  mergedAt?: string;
  mergedBy?: string;
}

export async function readPull(ctx: PullContext, number: number): Promise<Pull> {
  const { owner, repo, octokit } = ctx;
  const what = `reading pull request #${number} of ${owner}/${repo}`;
  const { data: pull } = await github(what, () =>
    octokit.rest.pulls.get({ owner, repo, pull_number: number }),
  );
  const [reviews, commits] = await Promise.all([
    github(what, () =>
      octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: number, per_page: 100 }),
    ),
    github(what, () =>
      octokit.paginate(octokit.rest.pulls.listCommits, { owner, repo, pull_number: number, per_page: 100 }),
    ),
  ]);
  return {
    author: pull.user?.login ?? '',
    ...(pull.user?.id !== undefined ? { authorId: pull.user.id } : {}),
    head: pull.head.sha,
    base: pull.base.sha,
    baseRef: pull.base.ref,
    defaultBranch: pull.base.repo.default_branch,
    reviews: reviews.map((r) => ({
      id: r.id,
      user: r.user ? { login: r.user.login, id: r.user.id } : null,
      state: r.state,
      commit_id: r.commit_id,
      submitted_at: r.submitted_at ?? null,
    })),
    commits: commits.map((c) => ({
      sha: c.sha,
      author: c.author && 'login' in c.author ? { login: c.author.login, id: c.author.id } : null,
      committer:
        c.committer && 'login' in c.committer ? { login: c.committer.login, id: c.committer.id } : null,
      commit: {
        author: c.commit.author
          ? {
              ...(c.commit.author.email ? { email: c.commit.author.email } : {}),
              ...(c.commit.author.date ? { date: c.commit.author.date } : {}),
            }
          : null,
        message: c.commit.message,
        committer: c.commit.committer
          ? { ...(c.commit.committer.email ? { email: c.commit.committer.email } : {}) }
          : null,
        verification: c.commit.verification ? { verified: c.commit.verification.verified } : null,
      },
    })),
    commitCount: pull.commits,
    url: pull.html_url,
    ...(pull.merged_at ? { mergedAt: pull.merged_at } : {}),
    ...(pull.merged_by?.login ? { mergedBy: pull.merged_by.login } : {}),
  };
}

/**
 * The login iden's comments are written as: IDEN_GITHUB_LOGIN when set (the
 * bot of a GitHub App token, `<slug>[bot]`), the token's user when GitHub
 * says (a personal token), or GitHub Actions' own bot for its job token.
 */
export async function identity(ctx: PullContext): Promise<string | undefined> {
  if (ctx.env.IDEN_GITHUB_LOGIN) return ctx.env.IDEN_GITHUB_LOGIN;
  return (
    (await tokenUser(ctx, [401, 403, 404])) ?? (ctx.env.GITHUB_ACTIONS ? 'github-actions[bot]' : undefined)
  );
}

/**
 * Updates the one comment that carries `marker` and that iden itself wrote,
 * or creates it: never a new comment per push, and never anyone else's
 * comment, however it looks.
 */
export async function upsertComment(
  ctx: PullContext,
  number: number,
  marker: string,
  body: string,
): Promise<'created' | 'updated'> {
  const { owner, repo, octokit } = ctx;
  const what = `commenting on pull request #${number}`;
  const me = (await identity(ctx))?.toLowerCase();
  const comments = await github(what, () =>
    octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 }),
  );
  const mine = me
    ? comments.find((c) => c.body?.includes(marker) && c.user?.login.toLowerCase() === me)
    : undefined;
  if (mine) {
    await github(what, () => octokit.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body }));
    return 'updated';
  }
  await github(what, () => octokit.rest.issues.createComment({ owner, repo, issue_number: number, body }));
  return 'created';
}

export async function setStatus(
  ctx: PullContext,
  sha: string,
  ok: boolean,
  description: string,
): Promise<void> {
  const { owner, repo, octokit } = ctx;
  await github(`setting the iden/policy status of ${sha.slice(0, 7)}`, () =>
    octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha,
      state: ok ? 'success' : 'failure',
      context: 'iden/policy',
      description: description.slice(0, 140),
    }),
  );
}

/**
 * The login of the token's user; undefined when GitHub answers one of `none`
 * (an App installation token may not read /user: "Resource not accessible by
 * integration").
 */
export async function tokenUser(
  ctx: PullContext,
  none: readonly number[] = [403, 404],
): Promise<string | undefined> {
  try {
    return (await ctx.octokit.rest.users.getAuthenticated()).data.login;
  } catch (e) {
    if (e instanceof RequestError && none.includes(e.status)) return undefined;
    return github('reading who the token belongs to', () => Promise.reject(e));
  }
}

/** What the policy judges of a pull request GitHub described: its author, head, commits and reviews. */
export function pullFacts(pull: Pull) {
  return {
    author: { login: pull.author, ...(pull.authorId !== undefined ? { id: pull.authorId } : {}) },
    head: pull.head,
    commits: pull.commits,
    commitCount: pull.commitCount,
    reviews: pull.reviews,
  };
}

/** Opens a pull request from `head` into `base`. */
export async function openPull(
  ctx: PullContext,
  pull: { head: string; base: string; title: string; body: string },
): Promise<{ number: number; url: string }> {
  const { owner, repo, octokit } = ctx;
  const { data } = await github(`opening a pull request from ${pull.head} into ${pull.base}`, () =>
    octokit.rest.pulls.create({ owner, repo, ...pull }),
  );
  return { number: data.number, url: data.html_url };
}

/** Asks people (GitHub logins) to review; why not, when GitHub refuses (not collaborators, the author). */
export async function requestReviewers(
  ctx: PullContext,
  number: number,
  reviewers: string[],
): Promise<string | undefined> {
  const { owner, repo, octokit } = ctx;
  if (reviewers.length === 0) return undefined;
  try {
    await github(`requesting reviews on #${number}`, () =>
      octokit.rest.pulls.requestReviewers({ owner, repo, pull_number: number, reviewers }),
    );
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
