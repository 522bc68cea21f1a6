import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { pushRemote, repositoryFromUrl } from '../git/branch.js';
import { changedPaths } from '../git/diff.js';
import { CommitTree } from '../git/tree.js';
import { github, type PullContext, readPull } from '../github/client.js';
import { loadTree } from '../load/repo.js';
import { affects } from '../policy/affects.js';
import { basePolicy } from '../policy/check-pr.js';
import { type ChangedFile, classify, type FileVerdict, type Review } from '../policy/classify.js';
import { contributorsOf, type PullCommit } from '../policy/contributors.js';
import { type AuditEvent, pullRequestFromSubject } from './events.js';
import type { Commit } from './history.js';
import type { Warning } from './records.js';

export interface ReviewSource {
  token: string;
  baseUrl: string;
  owner: string;
  repo: string;
}

/** Where to read pull requests: a token and the GitHub repository behind origin (or GITHUB_REPOSITORY). */
export async function reviewSource(root: string, env: NodeJS.ProcessEnv): Promise<ReviewSource | undefined> {
  const token = env.GITHUB_TOKEN;
  if (!token) return undefined;
  let slug = env.GITHUB_REPOSITORY;
  if (!slug) {
    const remote = await pushRemote(root).catch(() => undefined);
    slug = remote && repositoryFromUrl(remote.url);
  }
  const [owner, repo] = (slug ?? '').split('/');
  if (!owner || !repo) return undefined;
  return { token, baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com', owner, repo };
}

/** A merged pull request as the audit keeps it: what judging it needs, nothing that changes after merge. */
interface MergedPull {
  number: number;
  url: string;
  author: string;
  head: string;
  mergedAt: string;
  mergedBy?: string;
  /** Reviews submitted by the merge: later ones cannot have let it in. */
  reviews: Review[];
  commits: PullCommit[];
  commitCount: number;
}

/** What the commit-to-pull-request lookup found for a commit: the pull request it merged, or none. */
type Lookup = { pull: MergedPull | null };

/**
 * The cache of merged pull requests, outside the repository (a pull request
 * can commit anything under the repository, `.iden/` included): the user's
 * cache directory, keyed by repository and commit. A merged pull request
 * and the reviews given before its merge do not change, so each is read once.
 */
class Cache {
  private readonly dir: string;

  constructor(source: ReviewSource, env: NodeJS.ProcessEnv) {
    const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
    const host = new URL(source.baseUrl).host.replace(/[^a-z0-9.-]/gi, '_');
    this.dir = join(base, 'iden', 'pulls', host, source.owner, source.repo);
  }

  get(commit: string): Lookup | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${commit}.json`), 'utf8')) as Lookup;
    } catch {
      return undefined;
    }
  }

  set(commit: string, value: Lookup): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const path = join(this.dir, `${commit}.json`);
      writeFileSync(`${path}.tmp`, JSON.stringify(value));
      renameSync(`${path}.tmp`, path);
    } catch {
      // A cache that cannot be written only costs another request next time.
    }
  }
}

/**
 * Names each event's pull request and approvals. With a token, from GitHub:
 * the pull request whose `merge_commit_sha` is the event's commit, judged by
 * the same rules as `iden check-pr` (the base's roles and approvers, reviews
 * of the head commit given before the merge, never the author, a committer
 * or the grantee). Without one, or where GitHub cannot be read, only the
 * number a commit subject names, marked `prSource: "subject"`, and said.
 */
export async function addApprovals(
  root: string,
  events: AuditEvent[],
  commits: readonly Commit[],
  source: ReviewSource | undefined,
  env: NodeJS.ProcessEnv,
  warnings: Warning[],
): Promise<void> {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const grantEvents = events.filter(
    (e) => (e.kind === 'granted' || e.kind === 'changed' || e.kind === 'revoked') && bySha.has(e.commit),
  );
  const fromSubject = (list: AuditEvent[]) => {
    for (const e of list) {
      const pr = pullRequestFromSubject(bySha.get(e.commit)!.subject);
      if (pr !== undefined) {
        e.pr = pr;
        e.prSource = 'subject';
      }
    }
  };
  if (!source) {
    fromSubject(grantEvents);
    if (grantEvents.length > 0)
      warnings.push({
        code: 'no-github',
        message:
          'no GITHUB_TOKEN (or no GitHub repository behind origin): pull request numbers are read from commit subjects ("prSource": "subject"), which anyone can write, and approvals are not shown',
      });
    return;
  }
  const ctx: PullContext = {
    octokit: new Octokit({
      auth: source.token,
      baseUrl: source.baseUrl,
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    }),
    owner: source.owner,
    repo: source.repo,
    env,
  };
  const cache = new Cache(source, env);
  const shas = [...new Set(grantEvents.map((e) => e.commit))];
  const failed: AuditEvent[] = [];
  for (const sha of shas) {
    const list = grantEvents.filter((e) => e.commit === sha);
    let lookup = cache.get(sha);
    if (!lookup) {
      try {
        lookup = { pull: await mergedPull(ctx, sha) };
        cache.set(sha, lookup);
      } catch (e) {
        failed.push(...list);
        if (failed.length === list.length)
          warnings.push({
            code: 'github-unavailable',
            message: `cannot read pull requests from GitHub (${(e as Error).message.split('\n')[0]}): approvals of the affected events are unknown, and their pull requests are read from commit subjects`,
            commit: sha,
          });
        continue;
      }
    }
    const pull = lookup.pull;
    if (!pull) {
      for (const e of list) {
        e.approval = {
          ok: false,
          classification: 'no-pull-request',
          reason: 'pushed to the branch without a merged pull request',
        };
      }
      continue;
    }
    const verdicts = await judge(root, bySha.get(sha)!, pull);
    for (const e of list) {
      e.pr = pull.number;
      e.prSource = 'github';
      e.prUrl = pull.url;
      e.requestedBy = pull.author;
      const verdict = verdicts.get(e.file ?? '');
      if (!verdict) continue;
      const counted = verdict.reviews.filter((r) => r.counted);
      e.approvers = counted.map((r) => r.login).sort();
      const times = pull.reviews
        .filter((r) => counted.some((c) => c.login.toLowerCase() === r.user?.login.toLowerCase()))
        .map((r) => r.submitted_at ?? '')
        .filter(Boolean)
        .sort();
      e.approval = {
        ok: verdict.ok,
        classification: verdict.classification,
        reason: verdict.reason,
        ...(times.length > 0 ? { approvedAt: new Date(times.at(-1)!).toISOString() } : {}),
        ...(pull.mergedBy ? { mergedBy: pull.mergedBy } : {}),
      };
    }
  }
  fromSubject(failed);
}

/** The merged pull request whose merge commit is `sha`, or null (a direct push, or a rebase merge's other commits). */
async function mergedPull(ctx: PullContext, sha: string): Promise<MergedPull | null> {
  const { octokit, owner, repo } = ctx;
  const { data } = await github(`finding the pull request merged as ${sha.slice(0, 12)}`, () =>
    octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha, per_page: 100 }),
  );
  const merged = data.find((p) => p.merge_commit_sha === sha && p.merged_at);
  if (!merged) return null;
  const pull = await readPull(ctx, merged.number);
  const mergedAt = pull.mergedAt ?? merged.merged_at!;
  return {
    number: merged.number,
    url: pull.url,
    author: pull.author,
    head: pull.head,
    mergedAt,
    ...(pull.mergedBy ? { mergedBy: pull.mergedBy } : {}),
    reviews: pull.reviews.filter(
      (r) => !r.submitted_at || Date.parse(r.submitted_at) <= Date.parse(mergedAt),
    ),
    commits: pull.commits,
    commitCount: pull.commitCount,
  };
}

/** check-pr's verdicts for the files the merge brought, against the branch as it was before it. */
async function judge(root: string, merge: Commit, pull: MergedPull): Promise<Map<string, FileVerdict>> {
  const parent = merge.parents[0];
  if (!parent) return new Map();
  const changed = await changedPaths(root, parent, merge.sha);
  const grantFiles = new Set(changed.map((c) => c.path));
  const [baseRepo, headRepo] = await Promise.all([
    CommitTree.open(root, parent).then((t) => loadTree(t, { grants: (g) => grantFiles.has(g.file) })),
    CommitTree.open(root, merge.sha).then((t) => loadTree(t, { grants: (g) => grantFiles.has(g.file) })),
  ]);
  const files: ChangedFile[] = changed.map((c) => ({ ...c, ...affects(c.path, baseRepo, headRepo) }));
  const verifiedOnly =
    (baseRepo.settings?.raw?.policy as { verifiedCommitsOnly?: unknown } | undefined)?.verifiedCommitsOnly ===
    true;
  const contributors = contributorsOf(pull.author, pull.commits, [], verifiedOnly);
  if (pull.commitCount > pull.commits.length)
    contributors.unknown.push(`the pull request has ${pull.commitCount} commits and GitHub lists fewer`);
  const verdicts = classify({
    head: pull.head,
    contributors,
    files,
    reviews: pull.reviews,
    base: basePolicy(baseRepo),
  });
  return new Map(verdicts.map((v) => [v.file, v]));
}

/** The link to a pull request, for the review export. */
export function pullUrl(source: ReviewSource | undefined, remoteUrl: string | undefined, pr: number): string {
  if (source) {
    const web = source.baseUrl.replace(/\/api\/v3\/?$/, '').replace('://api.github.com', '://github.com');
    return `${web}/${source.owner}/${source.repo}/pull/${pr}`;
  }
  const slug = /github\.com[:/]([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(remoteUrl ?? '')?.[1];
  return slug ? `https://github.com/${slug}/pull/${pr}` : '';
}
