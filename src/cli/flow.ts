// What the four flow commands share on the command line: the flags that say
// what the commit and the pull request carry, opening the repository with
// the questions a terminal can answer, and saying what submitting did.
// Loaded only when one of them runs.
import { checkProposal } from '../flow/check.js';
import type { Questions } from '../flow/questions.js';
import { prepareSubmit, submitProposal } from '../flow/submit.js';
import { openWorkspace, type Workspace } from '../flow/workspace.js';
import { repositoryRoot } from '../git/state.js';
import { formatDiagnostics } from '../report/diagnostics.js';
import { type Proposal, proposalSummary } from '../report/flow.js';
import type { ActionResult, FlowFlags } from './flow-options.js';
import { EXIT, type Io, UsageError } from './io.js';

/** The repository at HEAD, and the questions (none with --yes or without a terminal). */
export async function openFlow(
  options: FlowFlags,
  io: Io,
): Promise<{ ws: Workspace; ask: Questions | undefined; say: (text: string) => void }> {
  const ws = await openWorkspace(await repositoryRoot(io.cwd, options.repo), io.clock.now());
  const ask = options.yes || !io.interactive ? undefined : await io.questions(options.format === 'json');
  return { ws, ask, say: options.format === 'json' ? io.stderr : io.stdout };
}

/** Checks the proposal, shows it, asks, then commits, pushes and opens the pull request. */
export async function finish(
  ws: Workspace,
  proposal: Proposal,
  options: FlowFlags,
  io: Io,
  ask: Questions | undefined,
): Promise<number> {
  const out = options.format === 'json' ? io.stderr : io.stdout;
  const checked = await checkProposal(ws, proposal);
  if (checked.findings.length > 0) io.stderr(formatDiagnostics(checked.findings, 'text'));
  if (!checked.ok) {
    io.stderr(`iden: ${proposal.action}: the change would not validate; nothing was written\n`);
    return EXIT.failed;
  }
  const prepared = await prepareSubmit(ws, proposal, checked, {
    ...(options.branch !== undefined ? { branch: options.branch } : {}),
    ...(options.as !== undefined ? { as: options.as } : {}),
    pr: options.pr,
    env: io.env,
  });
  for (const notice of prepared.notices) io.stderr(`notice: ${notice}\n`);
  const { branch, into } = prepared;
  out(`${proposalSummary(ws, proposal, prepared.forecast, prepared.author, branch, into, options.pr)}\n`);
  if (!options.yes) {
    if (!ask)
      throw new UsageError(
        `${proposal.action} writes a commit${options.pr ? ' and opens a pull request' : ''}: pass --yes to do it without a terminal`,
      );
    const go = await ask.confirm({
      message: options.pr ? 'Commit it and open the pull request?' : 'Commit it on the branch?',
      default: true,
    });
    if (!go) {
      out('Nothing was changed.\n');
      return EXIT.failed;
    }
  }

  const done = await submitProposal(ws, prepared, io.env);
  const result: ActionResult = {
    action: proposal.action,
    files: [...proposal.changes.keys()],
    branch,
    commit: done.commit,
    classification: prepared.forecast.classification,
    approvers: prepared.forecast.approvers,
    policy: prepared.forecast.policy,
    ...(prepared.forecast.verdicts.some((v) => v.privileged) ? { privileged: true as const } : {}),
    ...(done.pr ? { pr: done.pr } : {}),
  };
  out(`Committed ${done.commit.slice(0, 12)} on ${branch} (${into ?? 'HEAD'} is still checked out).\n`);
  let code: number = EXIT.ok;
  const push = done.push;
  if (push && 'none' in push)
    out(
      `No remote to push ${branch} to: add one (git remote add origin …), push the branch and open the pull request.\n`,
    );
  else if (push && 'refused' in push) {
    io.stderr(
      `iden: could not push ${branch} to ${push.to}: ${push.refused}; the branch is made here: push it (git push ${push.to} ${branch}) and open the pull request\n`,
    );
    code = EXIT.failed;
  } else if (push) out(`Pushed ${branch} to ${push.to}.\n`);
  if (done.byHand) out(`${done.byHand.why}: open the pull request by hand: ${done.byHand.where}\n`);
  if (done.prRefused) {
    const { why, compare } = done.prRefused;
    io.stderr(
      `iden: ${why}; ${branch} is pushed to ${push && 'to' in push ? push.to : 'the remote'}: open the pull request by hand${compare ? ` (${compare})` : ''}\n`,
    );
    code = EXIT.failed;
  }
  if (done.pr) out(`Opened pull request #${done.pr.number}: ${done.pr.url}\n`);
  if (done.reviews)
    out(
      done.reviews.refused
        ? `Could not request reviews from ${done.reviews.asked.join(', ')}: ${done.reviews.refused}; ask them yourself.\n`
        : `Requested reviews from ${done.reviews.asked.join(', ')}.\n`,
    );
  if (options.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return code;
}
