import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  GithubSetupError,
  type Pull,
  pullContext,
  readPull,
  setStatus,
  upsertComment,
} from '../github/client.js';
import { checkPullRequest, RefError } from '../policy/check-pr.js';
import type { Review } from '../policy/classify.js';
import { type CheckFormat, COMMENT_MARKER, checkMarkdown, formatCheck } from '../report/check-pr.js';
import { EXIT, type Io, UsageError } from './io.js';
import { instantOption } from './options.js';

export interface CheckPrOptions {
  repo?: string;
  base?: string;
  head?: string;
  author?: string;
  contributor?: string[];
  reviews?: string;
  pr?: string;
  comment?: boolean;
  at?: string;
  format: CheckFormat;
}

export async function runCheckPr(options: CheckPrOptions, io: Io): Promise<number> {
  const root = resolve(io.cwd, options.repo ?? '.');
  let pull: Omit<Pull, 'baseRef' | 'defaultBranch' | 'commitCount' | 'url'> & Partial<Pull>;
  let github: ReturnType<typeof pullContext> | undefined;
  let number: number | undefined;
  if (options.pr !== undefined) {
    number = Number(options.pr);
    if (!Number.isInteger(number) || number <= 0)
      throw new UsageError(`--pr must be a pull request number, not "${options.pr}"`);
    try {
      github = pullContext(io.env);
    } catch (e) {
      if (e instanceof GithubSetupError) throw new UsageError(e.message);
      throw e;
    }
    pull = await readPull(github, number);
  } else {
    if (!options.base || !options.head || !options.author) {
      throw new UsageError('check-pr needs --base, --head and --author, or --pr with GITHUB_TOKEN');
    }
    if (options.comment) throw new UsageError('--comment needs --pr');
    const reviews = options.reviews === undefined ? [] : readReviews(resolve(io.cwd, options.reviews));
    pull = { author: options.author, head: options.head, base: options.base, reviews, commits: [] };
  }
  let result: Awaited<ReturnType<typeof checkPullRequest>>;
  try {
    result = await checkPullRequest({
      root,
      base: pull.base,
      head: pull.head,
      author: pull.author,
      commits: pull.commits,
      ...(pull.commitCount !== undefined ? { commitCount: pull.commitCount } : {}),
      contributors: options.contributor ?? [],
      reviews: pull.reviews,
      at: (zone) => instantOption('--at', options.at, zone, io.clock.now()),
      ...(pull.baseRef !== undefined && pull.defaultBranch !== undefined
        ? { branch: { base: pull.baseRef, default: pull.defaultBranch } }
        : {}),
    });
  } catch (e) {
    if (e instanceof RefError) throw new UsageError(e.message);
    throw e;
  }
  const links =
    io.env.GITHUB_REPOSITORY !== undefined
      ? { server: io.env.GITHUB_SERVER_URL ?? 'https://github.com', repo: io.env.GITHUB_REPOSITORY }
      : undefined;
  io.stdout(formatCheck(result, options.format, links));
  const markdown = checkMarkdown(result, links);
  if (io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
  if (github && number !== undefined) {
    const failing =
      result.problems.length +
      result.files.filter((f) => !f.ok).length +
      (result.diagnostics.some((d) => d.severity === 'error') ? 1 : 0);
    // The verdict holds for this base and head together; the description says which base.
    const against = `${pull.baseRef ?? 'base'}@${result.base.slice(0, 7)}`;
    await setStatus(
      github,
      result.head,
      result.ok,
      result.ok
        ? `access policy satisfied against ${against}`
        : `${failing} problem(s) against ${against}: see the iden comment`,
    );
    if (options.comment) {
      const done = await upsertComment(github, number, COMMENT_MARKER, markdown);
      io.stderr(`notice: ${done} the iden comment on pull request #${number}\n`);
    }
  }
  return result.ok ? EXIT.ok : EXIT.failed;
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
