import { OperatorError } from '../errors.js';
import { type PullContext, pullFacts, readPull, setStatus, upsertComment } from '../github/client.js';
import { webLinks } from '../github/repository.js';
import type { Instant } from '../model/time.js';
import { type CheckResult, checkPullRequest } from '../policy/check-pr.js';
import { COMMENT_MARKER, checkMarkdown, statusLine } from '../report/check-pr.js';

/** The close's verdict on the head it pushed, and the GitHub requests it took. */
export interface HeadVerdict {
  ok: boolean;
  /** Why it may not be merged, in one line; absent when it may. */
  why?: string;
  calls: number;
}

/**
 * Judges the head the close built with check-pr's own judge and sets
 * `iden/policy` on it, as `iden check-pr --pr N` would: a push with a
 * workflow's job token starts no workflow, so nothing else will. The close is
 * trusted code from the protected branch, and the verdict is the one check-pr
 * would post, from the same facts (the pull request as GitHub now has it,
 * judged against the protected tip the head was built on). On a failure the
 * reasons go where check-pr puts them, its one comment on the pull request.
 */
export async function judgeHead(
  github: PullContext,
  input: { root: string; branch: string; tip: string; pr: number; head: string; at: Instant },
): Promise<HeadVerdict> {
  const pull = await readPull(github, input.pr);
  let calls = 3;
  // GitHub moves a pull request to a pushed head on its own time; facts of the old head would judge the wrong commits.
  if (pull.head !== input.head)
    throw new OperatorError(
      `GitHub still shows #${input.pr} at ${pull.head.slice(0, 7)}, not the rebuilt ${input.head.slice(0, 7)}; run close again`,
    );
  const result = await checkPullRequest({
    root: input.root,
    protected: input.tip,
    protectedName: input.branch,
    head: input.head,
    target: pull.baseRef,
    pull: pullFacts(pull),
    at: () => input.at,
  });
  await setStatus(github, input.head, result.ok, statusLine(result, input.branch));
  calls++;
  if (result.ok) return { ok: true, calls };
  await upsertComment(github, input.pr, COMMENT_MARKER, checkMarkdown(result, webLinks(github.env)));
  // Who iden writes as is read from GitHub unless IDEN_GITHUB_LOGIN says; then the comments, then one write.
  calls += github.env.IDEN_GITHUB_LOGIN ? 2 : 3;
  return { ok: false, why: whyNot(result), calls };
}

/** The first reason the judge gives against merging: a problem, a file, or a validation error. */
function whyNot(result: CheckResult): string {
  const file = result.files.find((f) => !f.ok);
  const error = result.diagnostics.find((d) => d.severity === 'error');
  return (
    result.problems[0] ??
    (file ? `${file.file}: ${file.reason}` : undefined) ??
    (error ? `${error.file}:${error.line}:${error.column} ${error.code}: ${error.message}` : 'not allowed')
  );
}
