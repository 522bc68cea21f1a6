import { dirtyGrants } from '../git/branch.js';
import { resolveRef } from '../git/diff.js';
import { CommitTree } from '../git/tree.js';
import type { AccessRepo } from '../model/repo.js';
import { loadRepo, loadTree } from './repo.js';

export interface Committed {
  repo: AccessRepo;
  /** The commit read; undefined for a folder that is not a git repository with commits. */
  commit: string | undefined;
  notices: string[];
}

/**
 * The access repository as its HEAD commit has it: what plan, apply and
 * reconcile act on, never untracked or modified files. A folder that is not a
 * git repository is read as it is, and says so.
 */
export async function loadCommitted(root: string, ref = 'HEAD'): Promise<Committed> {
  const commit = await resolveRef(root, ref);
  if (!commit) {
    const repo = await loadRepo(root);
    return {
      repo,
      commit: undefined,
      notices: [
        'not a git repository with commits: reading the files as they are, uncommitted ones included',
      ],
    };
  }
  const notices = await dirtyNotices(root, commit);
  return { repo: await loadTree(await CommitTree.open(root, commit)), commit, notices };
}

/** What to say when grants/ differs from the commit read. */
export async function dirtyNotices(root: string, commit: string): Promise<string[]> {
  const dirty = (await dirtyGrants(root).catch(() => [])).length;
  if (dirty === 0) return [];
  return [
    `${dirty} file${dirty === 1 ? '' : 's'} under grants/ differ${dirty === 1 ? 's' : ''} from ${commit.slice(0, 12)} (uncommitted): using the committed content; commit them to act on them`,
  ];
}
