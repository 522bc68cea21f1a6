import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { simpleGit } from 'simple-git';
import type { AuditEvent } from './events.js';

export interface ReviewSource {
  token: string;
  baseUrl: string;
  owner: string;
  repo: string;
}

/** Where to read pull-request reviews: a token and the GitHub repository behind origin, or undefined. */
export async function reviewSource(root: string, env: NodeJS.ProcessEnv): Promise<ReviewSource | undefined> {
  const token = env.GITHUB_TOKEN;
  if (!token) return undefined;
  let slug = env.GITHUB_REPOSITORY;
  if (!slug) {
    const remotes = await simpleGit({ baseDir: root })
      .getRemotes(true)
      .catch(() => []);
    const url = remotes.find((r) => r.name === 'origin')?.refs.fetch ?? '';
    slug = /[:/]([^/:]+\/[^/]+?)(?:\.git)?$/.exec(url)?.[1];
  }
  const [owner, repo] = (slug ?? '').split('/');
  if (!owner || !repo) return undefined;
  return { token, baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com', owner, repo };
}

/**
 * Adds `approvers` to events from a merged pull request: the reviewers whose
 * latest review is APPROVED. Reviews of a merged pull request no longer
 * change, so each is fetched once and cached under .iden/cache/.
 */
export async function addApprovers(root: string, events: AuditEvent[], source: ReviewSource): Promise<void> {
  const octokit = new Octokit({ auth: source.token, baseUrl: source.baseUrl, request: { retries: 2 } });
  const cacheDir = join(root, '.iden', 'cache', 'reviews');
  const byPr = new Map<number, string[]>();
  for (const pr of new Set(events.map((e) => e.pr).filter((n): n is number => n !== undefined))) {
    const cache = join(cacheDir, `${source.owner}__${source.repo}__${pr}.json`);
    if (existsSync(cache)) {
      byPr.set(pr, JSON.parse(readFileSync(cache, 'utf8')) as string[]);
      continue;
    }
    const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
      owner: source.owner,
      repo: source.repo,
      pull_number: pr,
      per_page: 100,
    });
    const latest = new Map<string, string>();
    for (const review of reviews) {
      if (review.user?.login && review.state !== 'COMMENTED') latest.set(review.user.login, review.state);
    }
    const approvers = [...latest]
      .filter(([, state]) => state === 'APPROVED')
      .map(([login]) => login)
      .sort();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cache, JSON.stringify(approvers));
    byPr.set(pr, approvers);
  }
  for (const event of events) {
    const approvers = event.pr !== undefined ? byPr.get(event.pr) : undefined;
    if (approvers) event.approvers = approvers;
  }
}
