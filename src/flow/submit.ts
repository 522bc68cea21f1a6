// A proposal becomes a branch, a commit, a push and a pull request. Nothing
// is checked out: the commit is made from git objects with a private index,
// so the work tree and the checked-out branch are never touched. Each step's
// result is returned as a value; the command line says it.
import { OperatorError, UsageError } from '../errors.js';
import {
  branchExists,
  commitOnNewBranch,
  currentBranch,
  pushBranch,
  pushRemote,
  remoteHasBranch,
  validBranchName,
} from '../git/branch.js';
import { gitConfig } from '../git/identity.js';
import type { PullContext } from '../github/client.js';
import { compareUrl, type GitHubPlace, gitHubPlace } from '../github/repository.js';
import { basePolicy } from '../policy/base-policy.js';
import { type Forecast, forecast } from '../policy/predict.js';
import { oneLine, type Proposal, pullBody } from '../report/flow.js';
import type { Checked } from './check.js';
import type { Workspace } from './workspace.js';

export interface SubmitSettings {
  /** The branch to make (default: the proposal's). */
  branch?: string;
  /** Push and open a pull request (false with --no-pr). */
  pr: boolean;
  /** The author's GitHub login when no token says it (--as). */
  as?: string;
  env: NodeJS.ProcessEnv;
}

type Remote = { name: string; url: string; push: string };

export interface Prepared {
  proposal: Proposal;
  /** Push and open a pull request. */
  pr: boolean;
  branch: string;
  /** The branch the pull request merges into. */
  into: string | undefined;
  remote: Remote | undefined;
  place: GitHubPlace;
  ctx: PullContext | undefined;
  forecast: Forecast;
  /** Who iden took the author to be, and from where; empty when it cannot tell. */
  author: string;
  notices: string[];
}

/** Everything decided before anything is written: the branch, where it goes, who asks, and the policy's forecast. */
export async function prepareSubmit(
  ws: Workspace,
  proposal: Proposal,
  checked: Checked,
  s: SubmitSettings,
): Promise<Prepared> {
  const branch = s.branch ?? proposal.branch;
  if (!(await validBranchName(ws.root, branch)))
    throw new UsageError(`--branch ${branch}: not a name git takes for a branch`);
  if (await branchExists(ws.root, branch))
    throw new OperatorError(
      `a branch named ${branch} exists already: merge or delete it (git branch -D ${branch}), or pass --branch; nothing was changed`,
    );
  const into = (await currentBranch(ws.root)) ?? ws.repo.settings?.value?.policy?.branch;
  const remote = s.pr ? await pushRemote(ws.root) : undefined;
  if (s.pr && !into)
    throw new OperatorError(
      'HEAD is detached: check out the branch the pull request should merge into, or pass --no-pr; nothing was changed',
    );
  if (remote && (await remoteHasBranch(ws.root, remote, branch)))
    throw new OperatorError(
      `${remote.name} already has a branch named ${branch}: pass --branch, or delete it there; nothing was changed`,
    );
  const place = gitHubPlace(s.env, remote?.url);
  let ctx: PullContext | undefined;
  if (s.pr && s.env.GITHUB_TOKEN && place.repository) {
    const { repoContext } = await import('../github/client.js');
    ctx = repoContext(s.env, place.repository);
  }
  const notices: string[] = [];
  const { logins, author, unknown } = await whoAsks(ws, s.as, ctx, notices);
  const judged = await forecast({
    root: ws.root,
    head: ws.head,
    now: ws.now,
    zone: ws.zone,
    repo: ws.repo,
    tree: ws.tree,
    before: checked.before,
    after: checked.after,
    action: proposal.action,
    changes: proposal.changes,
    logins,
    unknown,
  });
  return { proposal, pr: s.pr, branch, into, remote, place, ctx, forecast: judged, author, notices };
}

/**
 * Who is asking: the token's user (GitHub says), else --as; the commit is
 * the configured git user's, and check-pr counts its author too.
 */
async function whoAsks(
  ws: Workspace,
  as: string | undefined,
  ctx: PullContext | undefined,
  notices: string[],
) {
  const policy = basePolicy(ws.repo);
  const logins: string[] = [];
  let author = '';
  if (ctx) {
    const { tokenUser } = await import('../github/client.js');
    const login = await tokenUser(ctx);
    if (login) {
      logins.push(login);
      author = `${login} (the token's user)`;
      if (as && as.toLowerCase() !== login.toLowerCase())
        notices.push(`the pull request is opened as ${login}, the token's user, not --as ${as}`);
    }
  }
  if (logins.length === 0 && as) {
    logins.push(as);
    author = `${as} (--as)`;
  }
  const email = (await gitConfig(ws.root, 'user.email')).toLowerCase();
  const committer = ws.people.find((p) => email !== '' && p.email.toLowerCase() === email);
  const committerLogin = committer && policy.loginOf.get(committer.id);
  if (committerLogin && !logins.some((l) => l.toLowerCase() === committerLogin.toLowerCase())) {
    logins.push(committerLogin);
    if (!author) author = `${committerLogin} (git config user.email ${email})`;
  }
  const unknown =
    logins.length === 0
      ? ['iden cannot tell who you are on GitHub: pass --as LOGIN, or set GITHUB_TOKEN']
      : [];
  return { logins, author, unknown };
}

/** What submitting did, step by step; a step that failed ends it. */
export interface Submitted {
  commit: string;
  /** Absent with --no-pr. */
  push?: { to: string } | { none: true } | { refused: string; to: string };
  /** Where to open the pull request by hand, and why iden did not. */
  byHand?: { why: string; where: string };
  pr?: { number: number; url: string };
  prRefused?: { why: string; compare?: string };
  reviews?: { asked: string[]; refused?: string };
}

export async function submitProposal(ws: Workspace, p: Prepared, env: NodeJS.ProcessEnv): Promise<Submitted> {
  const { proposal, branch, remote } = p;
  const commit = await commitOnNewBranch(ws.root, {
    from: ws.head,
    branch,
    changes: proposal.changes,
    message: `${oneLine(proposal.subject)}\n\n${proposal.describe.map(oneLine).join('\n')}\n`,
  });
  const done: Submitted = { commit };
  if (!p.pr || p.into === undefined) return done;
  if (!remote) return { ...done, push: { none: true } };
  const refused = await pushBranch(ws.root, remote.name, branch);
  if (refused) return { ...done, push: { refused, to: remote.name } };
  done.push = { to: remote.name };
  const compare = p.place.repository ? compareUrl(p.place, p.into, branch) : undefined;
  if (!p.ctx) {
    const why = env.GITHUB_TOKEN
      ? 'GITHUB_TOKEN is set, but which GitHub repository origin is could not be told (set GITHUB_REPOSITORY=owner/name)'
      : 'No GITHUB_TOKEN';
    return { ...done, byHand: { why, where: compare ?? `the branch ${branch} into ${p.into}` } };
  }
  const { openPull, requestReviewers } = await import('../github/client.js');
  try {
    done.pr = await openPull(p.ctx, {
      head: branch,
      base: p.into,
      title: oneLine(proposal.subject),
      body: pullBody(ws.zone, proposal, p.forecast),
    });
  } catch (e) {
    return { ...done, prRefused: { why: (e as Error).message, ...(compare ? { compare } : {}) } };
  }
  if (p.forecast.reviewers.length > 0) {
    const refusedReviews = await requestReviewers(p.ctx, done.pr.number, p.forecast.reviewers);
    done.reviews = { asked: p.forecast.reviewers, ...(refusedReviews ? { refused: refusedReviews } : {}) };
  }
  return done;
}
