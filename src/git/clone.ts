import { isAncestor } from './merge.js';
import { runGit } from './run.js';

/** The branch the remote's HEAD names (its default branch), asked of the remote itself. */
export async function remoteDefaultBranch(root: string, remote = 'origin'): Promise<string | undefined> {
  const out = await runGit(root, ['ls-remote', '--symref', remote, 'HEAD'], [0, 2, 128]).catch(
    () => undefined,
  );
  if (out?.code !== 0) return undefined;
  return /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out.stdout)?.[1];
}

/** The checked-out branch, or undefined when HEAD is detached. */
export async function checkedOut(root: string): Promise<string | undefined> {
  const out = await runGit(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'], [0, 1, 128]);
  return out.code === 0 ? out.stdout.trim() : undefined;
}

/** Tracked files with local changes. */
export async function localChanges(root: string): Promise<string[]> {
  const out = await runGit(root, ['status', '--porcelain', '-z', '--untracked-files=no']);
  return out.stdout.split('\0').filter(Boolean);
}

export async function headCommit(root: string): Promise<string | undefined> {
  const out = await runGit(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], [0, 1, 128]);
  return out.code === 0 ? out.stdout.trim() : undefined;
}

/** Fetches the branch from the remote; the commit the remote has for it. */
export async function fetchBranch(root: string, branch: string, remote = 'origin'): Promise<string> {
  await runGit(root, [
    'fetch',
    '-q',
    '--no-tags',
    remote,
    `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`,
  ]);
  return (
    await runGit(root, ['rev-parse', '--verify', `refs/remotes/${remote}/${branch}^{commit}`])
  ).stdout.trim();
}

export type Pulled =
  | { moved: false; head: string }
  | { moved: true; from: string; to: string }
  | { diverged: true; head: string; remote: string };

/**
 * Brings the checkout to what the remote has, only ever forward: a checkout
 * the remote's branch does not contain (local commits, a rewritten remote)
 * is left as it is and said, never applied.
 */
export async function pullBranch(root: string, branch: string, remote = 'origin'): Promise<Pulled> {
  const theirs = await fetchBranch(root, branch, remote);
  const ours = await headCommit(root);
  if (!ours) throw new Error(`${root} has no commit checked out`);
  if (ours === theirs) return { moved: false, head: ours };
  if (!(await isAncestor(root, ours, theirs))) return { diverged: true, head: ours, remote: theirs };
  await runGit(root, ['merge', '-q', '--ff-only', theirs]);
  return { moved: true, from: ours, to: theirs };
}

/**
 * The apps whose grants a range of commits changed; 'all' when it changed
 * what every app reads (the settings, the people) or anything else under grants/.
 */
export async function changedApps(root: string, from: string, to: string): Promise<string[] | 'all'> {
  const out = await runGit(root, ['diff', '--name-only', '-z', '--no-renames', from, to, '--', 'grants/']);
  const apps = new Set<string>();
  for (const path of out.stdout.split('\0').filter(Boolean)) {
    const parts = path.split('/');
    if (parts.length !== 3) return 'all';
    apps.add(parts[1]!);
  }
  return [...apps].sort();
}

/** The default branch this clone last heard of from origin (refs/remotes/origin/HEAD), without asking origin. */
export async function knownDefaultBranch(root: string, remote = 'origin'): Promise<string | undefined> {
  const out = await runGit(root, ['symbolic-ref', '--quiet', `refs/remotes/${remote}/HEAD`], [0, 1, 128]);
  return out.code === 0 ? out.stdout.trim().replace(`refs/remotes/${remote}/`, '') || undefined : undefined;
}
