import { CommitTree } from '../git/tree.js';
import type { LoadedFile } from '../load/read-file.js';
import { loadTree } from '../load/repo.js';
import type { AccessRepo } from '../model/repo.js';
import { GRANT_PATH } from './classify.js';
import type { RawChange } from './judge.js';

export interface ReadChange {
  before: AccessRepo;
  after: AccessRepo;
  /** The grant files the change touches. */
  grantFiles: Set<string>;
  /** Whether the change touches more than grant files under grants/, so the whole repository was read. */
  whole: boolean;
}

/**
 * Both sides of a change read from git objects (commits, or the tree of a
 * merge result), never checked out. A change to grant files reads only their
 * folders, plus the settings, people and apps, and, for seat counts, the
 * other grants of an app with tiers; a change to anything else under grants/
 * reads everything. Files both sides share are parsed once.
 */
export async function readChange(
  root: string,
  before: string,
  after: string,
  changed: readonly RawChange[],
): Promise<ReadChange> {
  const grantFiles = new Set(changed.filter((c) => GRANT_PATH.test(c.path)).map((c) => c.path));
  const whole = changed.some((c) => c.path.startsWith('grants/') && !GRANT_PATH.test(c.path));
  const folders = [...new Set([...grantFiles].map((f) => f.split('/')[1]!))];
  const open = (treeish: string) =>
    whole ? CommitTree.open(root, treeish) : CommitTree.openSome(root, treeish, folders);
  const [beforeTree, afterTree] = await Promise.all([open(before), open(after)]);
  const memo = new Map<string, LoadedFile>();
  const [beforeRepo, afterRepo] = await Promise.all([
    loadTree(beforeTree, { grants: (g) => whole || grantFiles.has(g.file), memo }),
    loadTree(afterTree, {
      memo,
      grants: (g, apps) =>
        whole ||
        grantFiles.has(g.file) ||
        ((apps.get(g.folder)?.value?.licenses?.length ?? 0) > 0 &&
          [...grantFiles].some((f) => f.startsWith(`grants/${g.folder}/`))),
    }),
  ]);
  return { before: beforeRepo, after: afterRepo, grantFiles, whole };
}

/** The settings, people and apps of a commit, without its grants: what a policy is read from. */
export async function readPolicy(root: string, commit: string): Promise<AccessRepo> {
  return loadTree(await CommitTree.openSome(root, commit, []), { grants: () => false });
}
