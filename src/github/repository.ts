import { Octokit } from '@octokit/rest';
import { pushRemote, repositoryFromUrl } from '../git/branch.js';
import type { PullContext } from './client.js';

/** Where a repository's pull requests are read: a token, the API, and the repository (owner/name). */
export interface ReviewSource {
  token: string;
  baseUrl: string;
  owner: string;
  repo: string;
}

/**
 * The GitHub repository behind an access repository: GITHUB_REPOSITORY (as
 * GitHub Actions sets it), else the one origin's fetch URL names; read with
 * GITHUB_TOKEN at GITHUB_API_URL (Enterprise Server) or api.github.com.
 * Undefined without a token or a GitHub repository.
 */
export async function reviewSource(root: string, env: NodeJS.ProcessEnv): Promise<ReviewSource | undefined> {
  const token = env.GITHUB_TOKEN;
  if (!token) return undefined;
  let slug = /^[^/\s]+\/[^/\s]+$/.test(env.GITHUB_REPOSITORY ?? '') ? env.GITHUB_REPOSITORY : undefined;
  if (!slug) {
    const remote = await pushRemote(root).catch(() => undefined);
    slug = remote && repositoryFromUrl(remote.url);
  }
  const [owner, repo] = (slug ?? '').split('/');
  if (!owner || !repo) return undefined;
  return { token, baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com', owner, repo };
}

/** An octokit for the source, quiet, with a deadline on every request and no retries of its own. */
export function sourceContext(source: ReviewSource, env: NodeJS.ProcessEnv, timeoutMs = 30_000): PullContext {
  const octokit = new Octokit({
    auth: source.token,
    baseUrl: source.baseUrl,
    request: { retries: 0, fetch: deadlineFetch(timeoutMs) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { octokit, owner: source.owner, repo: source.repo, env };
}

/** fetch that gives up on a request not answered within `timeoutMs`. */
export function deadlineFetch(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
}
