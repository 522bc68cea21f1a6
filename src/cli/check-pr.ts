// iden check-pr: may this pull request be merged? Run by the workflow on every
// pull request (--pr), in a merge queue (--merge-group), or by hand.
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../policy/check-pr.js';
import type { CheckFormat } from '../report/check-pr.js';
import { colourOn, EXIT, type Io, UsageError } from './io.js';
import { choice, examples } from './options.js';

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

export function checkPrCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('check-pr')
    .description('may this pull request be merged? direct grant, access request or change, and its approvals')
    .option('--repo <dir>', 'the access repository root', '.')
    .option(
      '--base <ref>',
      "the protected branch (its tip decides roles and approvers); by hand, default: origin's default branch, else main",
    )
    .option('--head <ref>', "the pull request's head commit (default HEAD)")
    .option(
      '--author <login>',
      "the pull request author's GitHub login (default: the git user's, from grants/_people.yaml)",
    )
    .option(
      '--contributor <login>',
      'another GitHub login that committed to the pull request (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--reviews <file>', 'the reviews, as GitHub lists them for a pull request (JSON)')
    .option(
      '--pr <number>',
      'read author, head and reviews from GitHub (GITHUB_TOKEN, GITHUB_REPOSITORY); sets the iden/policy status',
    )
    .option(
      '--merge-group',
      "in a merge queue (GitHub's merge_group event): judge the queue's merge result for its pull request and set iden/policy on it",
    )
    .option('--comment', 'with --pr: post the result as one comment, updated on each push')
    .option('--at <iso>', 'evaluate dates at this instant instead of now')
    .option(
      '--format <format>',
      'text, json or markdown',
      choice('--format', ['text', 'json', 'markdown'] as const),
      'text',
    )
    .addHelpText(
      'after',
      examples(
        'iden check-pr --pr 42 --comment              # in the pull-request workflow',
        'iden check-pr --base main --head HEAD --author alice-m',
      ),
    )
    .action(async (options: CheckPrOptions) => done(await runCheckPr(options, io)));
}

export async function runCheckPr(options: CheckPrOptions, io: Io): Promise<number> {
  const { repositoryRoot } = await import('../git/state.js');
  const { pullContext, pullFacts, readPull, setStatus, upsertComment } = await import('../github/client.js');
  const { readMergeGroup, readReviews } = await import('../github/events.js');
  const { instantOption } = await import('../model/instant.js');
  const { branchName, findProtected } = await import('../policy/protected.js');
  const { localPull } = await import('../policy/local-pull.js');
  const { COMMENT_MARKER, checkMarkdown, statusLine } = await import('../report/check-pr.js');
  const root = await repositoryRoot(io.cwd, options.repo);
  const at = (zone: string) => instantOption('--at', options.at, zone, io.clock.now());
  const named = options.contributor ?? [];
  if (options.pr === undefined && !options.mergeGroup) {
    // By hand: the protected branch, HEAD and the git user's login, unless the flags say otherwise.
    const local = options.base && options.author ? undefined : await localPull(root);
    if (local && 'problem' in local) throw new UsageError(local.problem);
    const base = options.base ?? local!.protected.tip;
    const author = options.author ?? local?.author;
    if (!author)
      throw new UsageError(
        `no GitHub login for the git user ${local?.email || '(none set)'} in grants/_people.yaml: pass --author LOGIN`,
      );
    const head = options.head ?? 'HEAD';
    if (options.comment) throw new UsageError('--comment needs --pr');
    const reviews = options.reviews === undefined ? [] : readReviews(resolve(io.cwd, options.reviews));
    const result = await (await import('../policy/check-pr.js')).checkPullRequest({
      root,
      protected: base,
      protectedName: local && base === local.protected.tip ? local.protected.name : branchName(base),
      head,
      pull: { author: { login: author }, head, commits: [], reviews, named },
      at,
    });
    return await report(result, options, io);
  }

  const github = pullContext(io.env);
  const group = options.mergeGroup ? readMergeGroup(io.env) : undefined;
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
  const result = await (await import('../policy/check-pr.js')).checkPullRequest({
    root,
    protected: found.tip,
    protectedName: found.name,
    head,
    target,
    ...(group ? { mergedOnto: group.base } : {}),
    pull: { ...pullFacts(pull), named },
    at,
  });
  const code = await report(result, options, io);
  await setStatus(github, head, result.ok, statusLine(result, found.name, group ? number : undefined));
  if (options.comment && !group) {
    const { webLinks } = await import('../github/repository.js');
    const done = await upsertComment(github, number, COMMENT_MARKER, checkMarkdown(result, webLinks(io.env)));
    io.stderr(`notice: ${done} the iden comment on pull request #${number}\n`);
  }
  return code;
}

async function report(result: CheckResult, options: CheckPrOptions, io: Io): Promise<number> {
  const { webLinks } = await import('../github/repository.js');
  const { checkMarkdown, formatCheck } = await import('../report/check-pr.js');
  const { paint } = await import('../report/paint.js');
  io.stdout(
    formatCheck(result, options.format, webLinks(io.env), paint(colourOn(io) && options.format === 'text')),
  );
  if (io.env.GITHUB_STEP_SUMMARY)
    appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${checkMarkdown(result, webLinks(io.env))}\n`);
  return result.ok ? EXIT.ok : EXIT.failed;
}
