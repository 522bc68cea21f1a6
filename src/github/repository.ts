import { Octokit } from '@octokit/rest';
import { pushRemote } from '../git/branch.js';
import type { PullContext } from './client.js';

/** Where a repository's pull requests are read: a token, the API, and the repository (owner/name). */
export interface ReviewSource {
  token: string;
  baseUrl: string;
  owner: string;
  repo: string;
}

/** Where an access repository lives on GitHub: which repository, its API, and its web address. */
export interface GitHubPlace {
  /** owner/name; undefined when neither GITHUB_REPOSITORY nor the remote's URL says it. */
  repository?: string;
  api: string;
  web: string;
}

/**
 * The one answer to "which GitHub repository is this, and where": GITHUB_REPOSITORY
 * (as GitHub Actions sets it), else the repository a remote's URL names (https,
 * scp-like ssh, ssh://, Enterprise hosts); the API at GITHUB_API_URL, else
 * api.github.com; the web address GITHUB_SERVER_URL, else derived from the API's
 * (api.github.com, or …/api/v3 on Enterprise Server).
 */
export function gitHubPlace(env: NodeJS.ProcessEnv, remoteUrl?: string): GitHubPlace {
  const repository =
    (/^[^/\s]+\/[^/\s]+$/.test(env.GITHUB_REPOSITORY ?? '') ? env.GITHUB_REPOSITORY : undefined) ??
    (remoteUrl !== undefined ? repositoryFromUrl(remoteUrl) : undefined);
  const api = env.GITHUB_API_URL ?? 'https://api.github.com';
  const web =
    env.GITHUB_SERVER_URL ??
    (env.GITHUB_API_URL
      ? env.GITHUB_API_URL.replace(/\/api\/v3\/?$/, '')
          .replace(/^(https?:\/\/)api\./, '$1')
          .replace(/\/$/, '')
      : 'https://github.com');
  return { ...(repository ? { repository } : {}), api, web };
}

/** Where links to the repository's files point: its web address and owner/name, when known. */
export function webLinks(env: NodeJS.ProcessEnv): { server: string; repo: string } | undefined {
  const place = gitHubPlace(env);
  return place.repository !== undefined ? { server: place.web, repo: place.repository } : undefined;
}

/** GitHub's page that opens a pull request from a branch. */
export function compareUrl(place: GitHubPlace, base: string, branch: string): string {
  return `${place.web}/${place.repository}/compare/${encodeURIComponent(base)}...${encodeURIComponent(branch)}?expand=1`;
}

/**
 * The GitHub repository behind an access repository (gitHubPlace, with origin's
 * fetch URL), read with GITHUB_TOKEN. Undefined without a token or a GitHub repository.
 */
export async function reviewSource(root: string, env: NodeJS.ProcessEnv): Promise<ReviewSource | undefined> {
  const token = env.GITHUB_TOKEN;
  if (!token) return undefined;
  let place = gitHubPlace(env);
  if (!place.repository) {
    const remote = await pushRemote(root).catch(() => undefined);
    place = gitHubPlace(env, remote?.url);
  }
  const [owner, repo] = (place.repository ?? '').split('/');
  if (!owner || !repo) return undefined;
  return { token, baseUrl: place.api, owner, repo };
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

/**
 * fetch that gives up on a request not answered within `timeoutMs`, and sends
 * once more a request whose connection was closed before any answer when
 * sending it twice does what sending it once does: reads, PUT, PATCH, DELETE
 * and a commit status (a second status of the same state replaces the first).
 * A kept-alive connection the server closed as the request went out ends so;
 * a comment or a pull request is never sent twice.
 */
export function deadlineFetch(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const once = () => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
    try {
      return await once();
    } catch (e) {
      if (!dropped(e) || !replayable(String(input instanceof Request ? input.url : input), init?.method))
        throw e;
      return once();
    }
  };
}

function dropped(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return (
    ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(cause?.code ?? '') ||
    cause?.message === 'other side closed'
  );
}

function replayable(url: string, method = 'GET'): boolean {
  const verb = method.toUpperCase();
  if (verb !== 'POST') return true;
  return /\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/.test(new URL(url).pathname);
}

/** GitHub's owner/name from a remote URL (https://host/o/r.git, git@host:o/r.git, ssh://…), when it is one. */
export function repositoryFromUrl(url: string): string | undefined {
  const match =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?[^/]+\/(?:.*\/)?([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url) ??
    /^[^@/\s]+@[^:/\s]+:(?:.*\/)?([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return match ? `${match[1]}/${match[2]}` : undefined;
}
