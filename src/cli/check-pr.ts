import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repositoryRoot } from '../git/state.js';
import {
  GithubSetupError,
  type PullContext,
  pullContext,
  readPull,
  setStatus,
  upsertComment,
} from '../github/client.js';
import { gitHubPlace } from '../github/repository.js';
import { instantOption } from '../model/instant.js';
import { type CheckResult, checkPullRequest, RefError } from '../policy/check-pr.js';
import type { Review } from '../policy/classify.js';
import { branchName, findProtected } from '../policy/protected.js';
import { type CheckFormat, COMMENT_MARKER, checkMarkdown, formatCheck } from '../report/check-pr.js';
import { EXIT, type Io, UsageError } from './io.js';

export interface CheckPrOptions {
  repo?: string;
  base?: string;
  head?: string;
  author?: string;
  contributor?: string[];
  reviews?: string;
  pr?: string;
  mergeGroup?: boolean;
  comment?: boolean;
  at?: string;
  format: CheckFormat;
}

/** What GitHub Actions says of a merge queue's group (the `merge_group` event). */
interface MergeGroup {
  head: string;
  base: string;
  target: string;
  number: number;
}

export async function runCheckPr(options: CheckPrOptions, io: Io): Promise<number> {
  const root = await repositoryRoot(io.cwd, options.repo);
  const at = (zone: string) => instantOption('--at', options.at, zone, io.clock.now());
  const named = options.contributor ?? [];
  if (options.pr === undefined && !options.mergeGroup) {
    if (!options.base || !options.head || !options.author)
      throw new UsageError(
        'check-pr needs --base, --head and --author, or --pr (or --merge-group) with GITHUB_TOKEN',
      );
    if (options.comment) throw new UsageError('--comment needs --pr');
    const reviews = options.reviews === undefined ? [] : readReviews(resolve(io.cwd, options.reviews));
    const result = await judged({
      root,
      protected: options.base,
      protectedName: branchName(options.base),
      head: options.head,
      pull: { author: { login: options.author }, head: options.head, commits: [], reviews, named },
      at,
    });
    return report(result, options, io);
  }

  let github: PullContext;
  try {
    github = pullContext(io.env);
  } catch (e) {
    if (e instanceof GithubSetupError) throw new UsageError(e.message);
    throw e;
  }
  const group = options.mergeGroup ? mergeGroup(io.env) : undefined;
  const number = group?.number ?? Number(options.pr);
  if (!Number.isInteger(number) || number <= 0)
    throw new UsageError(`--pr must be a pull request number, not "${options.pr}"`);
  const pull = await readPull(github, number);
  const head = group?.head ?? pull.head;
  const target = group?.target ?? pull.baseRef;
  const found = await findProtected(root, pull.defaultBranch);
  if ('problem' in found) {
    io.stdout(`NO  ${found.problem}\n`);
    await setStatus(github, head, false, found.problem);
    return EXIT.failed;
  }
  const result = await judged({
    root,
    protected: found.tip,
    protectedName: found.name,
    head,
    target,
    ...(group ? { mergedOnto: group.base } : {}),
    pull: {
      author: { login: pull.author, ...(pull.authorId !== undefined ? { id: pull.authorId } : {}) },
      head: pull.head,
      commits: pull.commits,
      commitCount: pull.commitCount,
      reviews: pull.reviews,
      named,
    },
    at,
  });
  const code = report(result, options, io);
  const failing =
    result.problems.length +
    result.files.filter((f) => !f.ok).length +
    (result.diagnostics.some((d) => d.severity === 'error') ? 1 : 0);
  // The verdict holds for this head merged into the protected branch's tip; the description says which.
  const against = `${found.name}@${result.base.slice(0, 7)}`;
  await setStatus(
    github,
    head,
    result.ok,
    result.ok
      ? `access policy satisfied against ${against}${group ? ` (merge queue, #${number})` : ''}`
      : (result.problems[0] ?? `${failing} problem(s) against ${against}: see the iden comment`),
  );
  if (options.comment && !group) {
    const done = await upsertComment(github, number, COMMENT_MARKER, checkMarkdown(result, links(io)));
    io.stderr(`notice: ${done} the iden comment on pull request #${number}\n`);
  }
  return code;
}

async function judged(input: Parameters<typeof checkPullRequest>[0]): Promise<CheckResult> {
  try {
    return await checkPullRequest(input);
  } catch (e) {
    if (e instanceof RefError) throw new UsageError(e.message);
    throw e;
  }
}

function links(io: Io): { server: string; repo: string } | undefined {
  const place = gitHubPlace(io.env);
  return place.repository !== undefined ? { server: place.web, repo: place.repository } : undefined;
}

function report(result: CheckResult, options: CheckPrOptions, io: Io): number {
  io.stdout(formatCheck(result, options.format, links(io)));
  if (io.env.GITHUB_STEP_SUMMARY)
    appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${checkMarkdown(result, links(io))}\n`);
  return result.ok ? EXIT.ok : EXIT.failed;
}

/**
 * The merge queue's group from GitHub Actions' event file: its head (the
 * merge result the queue made), the commit it was made on, the branch it
 * merges into, and the pull request it is for (`gh-readonly-queue/<branch>/pr-<N>-<sha>`).
 */
function mergeGroup(env: NodeJS.ProcessEnv): MergeGroup {
  const path = env.GITHUB_EVENT_PATH;
  if (!path)
    throw new UsageError(
      '--merge-group needs GITHUB_EVENT_PATH (the merge_group event), as GitHub Actions sets it',
    );
  let event: {
    merge_group?: { head_sha?: unknown; base_sha?: unknown; head_ref?: unknown; base_ref?: unknown };
  };
  try {
    event = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the event ${path}: ${(e as Error).message}`);
  }
  const group = event.merge_group;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const number = /\/pr-(\d+)-[0-9a-f]+$/.exec(text(group?.head_ref))?.[1];
  if (
    !group ||
    !/^[0-9a-f]{40}$/.test(text(group.head_sha)) ||
    !/^[0-9a-f]{40}$/.test(text(group.base_sha)) ||
    !number
  )
    throw new UsageError(
      `${path} is not a merge_group event with head_sha, base_sha and a gh-readonly-queue head_ref`,
    );
  return {
    head: text(group.head_sha),
    base: text(group.base_sha),
    target: text(group.base_ref).replace(/^refs\/heads\//, ''),
    number: Number(number),
  };
}

function readReviews(path: string): Review[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read --reviews ${path}: ${(e as Error).message}`);
  }
  const ok =
    Array.isArray(value) &&
    value.every(
      (r) =>
        r &&
        typeof r === 'object' &&
        typeof r.state === 'string' &&
        (r.user === null || typeof r.user?.login === 'string') &&
        (r.commit_id === null || typeof r.commit_id === 'string'),
    );
  if (!ok)
    throw new UsageError(
      `--reviews ${path} must be a JSON array of reviews as GitHub lists them (user.login, state, commit_id, submitted_at)`,
    );
  return value as Review[];
}
