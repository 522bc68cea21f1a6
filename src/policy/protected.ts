import { resolveRef } from '../git/diff.js';
import { readPolicy } from './read-change.js';

/** The protected branch: its name and the commit at its tip, which decides what any change is judged by. */
export interface Protected {
  name: string;
  tip: string;
}

/** A branch's tip as this clone knows it: origin's copy first (what a CI checkout fetched), then a local branch. */
export async function branchTip(root: string, name: string): Promise<string | undefined> {
  for (const ref of [`refs/remotes/origin/${name}`, `refs/heads/${name}`]) {
    const sha = await resolveRef(root, ref);
    if (sha) return sha;
  }
  return undefined;
}

/**
 * Which branch is protected, read from the tip of the repository's default
 * branch (`policy.branch` there, else the default branch itself), and that
 * branch's tip: never from a pull request's base commit or base ref, which
 * the pull request's author may have written.
 */
export async function findProtected(
  root: string,
  defaultBranch: string,
): Promise<Protected | { problem: string }> {
  const defaultTip = await branchTip(root, defaultBranch);
  if (!defaultTip)
    return {
      problem: `the default branch ${defaultBranch} is not in this clone: fetch it (actions/checkout with fetch-depth: 0)`,
    };
  const named = (await readPolicy(root, defaultTip)).settings?.value?.policy?.branch;
  if (named === undefined || named === defaultBranch) return { name: defaultBranch, tip: defaultTip };
  const tip = await branchTip(root, named);
  if (!tip)
    return {
      problem: `the protected branch ${named} (policy.branch on ${defaultBranch}) is not in this clone: fetch it`,
    };
  return { name: named, tip };
}

/** The branch a ref names, if it names one: `main`, `origin/main`, `refs/heads/main`. */
export function branchName(ref: string): string | undefined {
  if (/^[0-9a-f]{7,64}$/.test(ref)) return undefined;
  return ref.replace(/^refs\/(heads|remotes\/[^/]+)\//, '').replace(/^origin\//, '');
}
