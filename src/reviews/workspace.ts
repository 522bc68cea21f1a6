import { OperatorError, UsageError } from '../errors.js';
import { readBlobs } from '../git/blobs.js';
import { pushRemote } from '../git/branch.js';
import { remoteDefaultBranch } from '../git/clone.js';
import { gitUser } from '../git/identity.js';
import { blobsAt, fetchBranches } from '../git/review.js';
import { repositoryRoot } from '../git/state.js';
import { CommitTree, listPaths } from '../git/tree.js';
import type { PullContext } from '../github/client.js';
import { reviewSource, sourceContext } from '../github/repository.js';
import { loadTree } from '../load/repo.js';
import { type Clock, systemClock } from '../model/clock.js';
import type { AccessRepo } from '../model/repo.js';
import { zoneOf } from '../model/time.js';
import { type Campaign, campaignPath, parseCampaign } from './campaign.js';
import { paced } from './pace.js';

/** Where a review command works: the protected branch as origin has it, and who is running it. */
export interface ReviewWorkspace {
  root: string;
  remote: string;
  /** The protected branch. */
  branch: string;
  /** Its commit on the remote, fetched now. */
  tip: string;
  repo: AccessRepo;
  zone: string;
  /** The person git config user.email names in _people.yaml, when one does. */
  me: string | undefined;
  email: string | undefined;
  github: PullContext | undefined;
}

/**
 * Fetches the protected branch and reads it: review commands act on what
 * the remote's protected branch holds, never on the local checkout, which
 * they leave untouched.
 */
export async function openWorkspace(
  cwd: string,
  repoDir: string | undefined,
  env: NodeJS.ProcessEnv,
  clock: Pick<Clock, 'now' | 'sleep'> = systemClock,
): Promise<ReviewWorkspace> {
  const root = await repositoryRoot(cwd, repoDir);
  const remote = await pushRemote(root);
  if (!remote)
    throw new OperatorError(
      `${root} has no remote: a campaign lives on the remote's protected branch and its pull requests`,
    );
  const first = await fetchBranches(
    root,
    [(await remoteDefaultBranch(root, remote.name)) ?? 'main'],
    remote.name,
  );
  const [guess, guessTip] = [...first][0] ?? [];
  if (!guess || !guessTip) throw new OperatorError(`cannot read the default branch of ${remote.name}`);
  let repo = await loadTree(await CommitTree.open(root, guessTip));
  let branch = guess;
  let tip = guessTip;
  const named = repo.settings?.value?.policy?.branch;
  if (named && named !== guess) {
    const other = await fetchBranches(root, [named], remote.name);
    const commit = other.get(named);
    if (!commit) throw new OperatorError(`policy.branch names ${named}, which ${remote.name} does not have`);
    branch = named;
    tip = commit;
    repo = await loadTree(await CommitTree.open(root, commit));
  }
  const { email } = await gitUser(root);
  const me = email
    ? (repo.people?.value?.people ?? []).find((p) => p.email.toLowerCase() === email.toLowerCase())?.id
    : undefined;
  const source = await reviewSource(root, env);
  return {
    root,
    remote: remote.name,
    branch,
    tip,
    repo,
    zone: zoneOf(repo),
    me,
    email,
    github: source ? paced(sourceContext(source, env), clock) : undefined,
  };
}

/** The campaign file as the protected branch holds it. */
export async function readCampaign(
  ws: Pick<ReviewWorkspace, 'root' | 'tip'>,
  name: string,
): Promise<Campaign> {
  const path = campaignPath(name);
  const blob = (await blobsAt(ws.root, ws.tip, [path])).get(path);
  if (!blob) throw new UsageError(`no campaign ${name}: ${path} is not on the protected branch`);
  const text = (await readBlobs(ws.root, [blob])).get(blob) ?? '';
  return parseCampaign(path, text);
}

/** The names of the campaigns on the protected branch. */
export async function campaignNames(
  ws: Pick<ReviewWorkspace, 'repo'> & Pick<ReviewWorkspace, 'root' | 'tip'>,
): Promise<string[]> {
  const paths = await listPaths(ws.root, ws.tip, 'reviews');
  return paths
    .map((p) => /^reviews\/([^/]+)\.yaml$/.exec(p)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

/** The GitHub login of a person, from _people.yaml's accounts.github. */
export function loginOf(repo: AccessRepo, person: string): string | undefined {
  return (repo.people?.value?.people ?? []).find((p) => p.id === person)?.accounts?.github;
}

export function nameOf(repo: AccessRepo, person: string): string {
  return (repo.people?.value?.people ?? []).find((p) => p.id === person)?.name ?? person;
}
