// The committed repository as far as one app's or one person's view needs it:
// `iden access --app`/`--user` and `iden upcoming --app`/`--user` on a
// million-grant repository read a few thousand files, not all of them (as the
// pull-request check reads only the folders a change touches).
import { resolveRef } from '../git/diff.js';
import { foldersIn, presentFiles } from '../git/present.js';
import { CommitTree } from '../git/tree.js';
import type { AccessRepo } from '../model/repo.js';
import { type Committed, dirtyNotices, loadCommitted } from './committed.js';
import type { LoadedFile } from './read-file.js';
import { loadTree } from './repo.js';

export interface Scope {
  app?: string | undefined;
  /** A person's id or email, any case. */
  user?: string | undefined;
}

/**
 * The settings, the people, every app, and the grant files the scope names:
 * with `app`, that app's folder; with `user` alone, the person's grant file
 * in each folder (`grants/<app>/<id>.yaml`: the path is the grant's identity)
 * and, for the seats shown beside them, every grant of those of their apps
 * whose tiers have a seat limit. No scope, or no commit: everything.
 */
export async function loadCommittedScope(root: string, scope: Scope): Promise<Committed> {
  const commit = await resolveRef(root, 'HEAD');
  if (!commit || (scope.app === undefined && scope.user === undefined)) return loadCommitted(root);
  const notices = await dirtyNotices(root, commit);
  const memo = new Map<string, LoadedFile>();
  if (scope.app !== undefined) {
    const app = scope.app;
    const tree = await CommitTree.openSome(root, commit, [app]);
    return { repo: await loadTree(tree, { memo, grants: (g) => g.folder === app }), commit, notices };
  }
  const policy = await loadTree(await CommitTree.openSome(root, commit, []), { memo, grants: () => false });
  const files = await personsFiles(root, commit, policy, scope.user!);
  const theirs = await loadTree(await CommitTree.openSome(root, commit, [], [...files]), {
    memo,
    grants: (g) => files.has(g.file),
  });
  const seated = [
    ...new Set(
      theirs.grants
        .map((g) => g.folder)
        .filter((f) => theirs.apps.get(f)?.value?.licenses?.some((t) => t.seats !== undefined)),
    ),
  ];
  if (seated.length === 0) return { repo: theirs, commit, notices };
  const repo = await loadTree(await CommitTree.openSome(root, commit, seated, [...files]), {
    memo,
    grants: (g) => files.has(g.file) || seated.includes(g.folder),
  });
  return { repo, commit, notices };
}

/** The grant files of the person a `--user` names (an id or an email), in every folder of grants/. */
async function personsFiles(root: string, commit: string, policy: AccessRepo, user: string) {
  const who = user.toLowerCase();
  const ids = new Set([who]);
  for (const p of policy.people?.value?.people ?? [])
    if (p.id.toLowerCase() === who || p.email.toLowerCase() === who) ids.add(p.id);
  const folders = await foldersIn(root, commit, 'grants/');
  return presentFiles(
    root,
    commit,
    folders.flatMap((f) => [...ids].map((id) => `grants/${f}/${id}.yaml`)),
  );
}
