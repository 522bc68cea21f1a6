import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PullContext } from '../github/client.js';
import type { ReviewSource } from '../github/repository.js';
import type { Landing } from '../policy/landing.js';
import { type AuditEvent, pullRequestFromSubject } from './events.js';
import type { Commit } from './history.js';
import type { Warning } from './records.js';

export type { ReviewSource } from '../github/repository.js';

/**
 * Where approvals are read (GitHub, with a token), or none. GitHub's client
 * and the policy judge are loaded only with a token: an audit without one
 * never needs them.
 */
export async function reviewSource(root: string, env: NodeJS.ProcessEnv): Promise<ReviewSource | undefined> {
  if (!env.GITHUB_TOKEN) return undefined;
  return (await import('../github/repository.js')).reviewSource(root, env);
}

/** What the lookup found for a commit: the pull request that landed it, or none. */
type Lookup = { landing: Landing | null };

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
  line: readonly string[],
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
  const [{ sourceContext }, { findLanding, judgeLanding }] = await Promise.all([
    import('../github/repository.js'),
    import('../policy/landing.js'),
  ]);
  const ctx: PullContext = sourceContext(source, env);
  const cache = new Cache(source, env);
  const shas = [...new Set(grantEvents.map((e) => e.commit))];
  const failed: AuditEvent[] = [];
  for (const sha of shas) {
    const list = grantEvents.filter((e) => e.commit === sha);
    let lookup = cache.get(sha);
    if (!lookup) {
      try {
        lookup = { landing: await findLanding(ctx, root, line, sha) };
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
    const landing = lookup.landing;
    if (!landing) {
      for (const e of list) {
        e.approval = {
          ok: false,
          classification: 'no-pull-request',
          reason: 'pushed to the branch without a merged pull request',
        };
      }
      continue;
    }
    const pull = landing.pull;
    const verdicts = await judgeLanding(root, landing);
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
        ...(verdict.rules
          ? { rules: verdict.rules.map(({ rule, needed, counted }) => ({ rule, needed, counted })) }
          : {}),
        ...(verdict.emergency ? { emergency: true } : {}),
        ...(verdict.privileged ? { privileged: true } : {}),
      };
    }
  }
  fromSubject(failed);
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
