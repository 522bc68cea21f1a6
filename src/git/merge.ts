import { runGit } from './run.js';

export type MergeResult = { ok: true; tree: string } | { ok: false; conflicts: string[]; why: string };

/**
 * The tree GitHub would make by merging `theirs` into `ours`, made by git's
 * own merge machinery without touching a work tree or the index
 * (`git merge-tree --write-tree`, git 2.38 or later): every merge base of a
 * criss-cross history counts, as it does when GitHub merges. A merge that
 * conflicts names the conflicting paths.
 */
export async function mergeTree(root: string, ours: string, theirs: string): Promise<MergeResult> {
  const result = await runGit(
    root,
    ['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', ours, theirs],
    [0, 1, 128],
  );
  if (result.code === 128)
    return { ok: false, conflicts: [], why: result.stderr.trim().split('\n')[0] ?? 'git merge-tree failed' };
  const [tree = '', ...paths] = result.stdout.split('\0').filter(Boolean);
  if (result.code === 0) return { ok: true, tree };
  return { ok: false, conflicts: [...new Set(paths)], why: 'the merge conflicts' };
}

/** Whether `ancestor` is `commit` or one of its ancestors. */
export async function isAncestor(root: string, ancestor: string, commit: string): Promise<boolean> {
  const result = await runGit(root, ['merge-base', '--is-ancestor', ancestor, commit], [0, 1, 128]);
  return result.code === 0;
}
