// The committed repository as far as one app's or one person's view needs it:
// `iden access --app`/`--user` and `iden upcoming --app`/`--user` on a
// million-grant repository read a few thousand files, not all of them (as the
// pull-request check reads only the folders a change touches).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRef } from '../git/diff.js';
import { foldersIn, presentFiles } from '../git/present.js';
import { CommitTree } from '../git/tree.js';
import type { AccessRepo } from '../model/repo.js';
import { type Committed, loadCommitted } from './committed.js';
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
  const memo = new Map<string, LoadedFile>();
  if (scope.app !== undefined) {
    const app = scope.app;
    const tree = await CommitTree.openSome(root, commit, [app]);
    const repo = await loadTree(tree, { memo, grants: (g) => g.folder === app });
    return { repo, commit, notices: differing(root, repo, commit, [`grants/${app}/`]) };
  }
  const policy = await loadTree(await CommitTree.openSome(root, commit, []), { memo, grants: () => false });
  const { files, asked } = await personsFiles(root, commit, policy, scope.user!);
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
  if (seated.length === 0) return { repo: theirs, commit, notices: differing(root, theirs, commit, asked) };
  const repo = await loadTree(await CommitTree.openSome(root, commit, seated, [...files]), {
    memo,
    grants: (g) => files.has(g.file) || seated.includes(g.folder),
  });
  return {
    repo,
    commit,
    notices: differing(root, repo, commit, [...asked, ...seated.map((f) => `grants/${f}/`)]),
  };
}

/** The grant files of the person a `--user` names (an id or an email), in every folder of grants/. */
async function personsFiles(root: string, commit: string, policy: AccessRepo, user: string) {
  const who = user.toLowerCase();
  const ids = new Set([who]);
  for (const p of policy.people?.value?.people ?? [])
    if (p.id.toLowerCase() === who || p.email.toLowerCase() === who) ids.add(p.id);
  const folders = await foldersIn(root, commit, 'grants/');
  const asked = folders.flatMap((f) => [...ids].map((id) => `grants/${f}/${id}.yaml`));
  return { files: await presentFiles(root, commit, asked), asked };
}

/**
 * The notice `loadCommitted` gives when grants/ differs from the commit, for
 * the files this read covers only: each file read is hashed as git would and
 * compared with its blob, and the paths and folders asked for are looked for
 * on disk. (`git status` of a million-file work tree takes longer than the
 * whole answer.)
 */
function differing(root: string, repo: AccessRepo, commit: string, paths: readonly string[]): string[] {
  const tree = repo.tree;
  const read = [repo.settings, repo.people, ...repo.apps.values(), ...repo.grants]
    .map((f) => f?.source)
    .filter((s): s is string => s !== undefined);
  const dirty = new Set<string>();
  for (const source of read) {
    const id = tree.blobId(source);
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(root, source));
    } catch {
      dirty.add(source);
      continue;
    }
    const hash = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    if (hash !== id) dirty.add(source);
  }
  for (const path of paths) {
    if (!path.endsWith('/')) {
      if (tree.kind(path) === undefined && existsSync(join(root, path))) dirty.add(path);
      continue;
    }
    let names: string[] = [];
    try {
      names = readdirSync(join(root, path));
    } catch {}
    for (const name of names) if (tree.kind(`${path}${name}`) === undefined) dirty.add(`${path}${name}`);
  }
  const n = dirty.size;
  if (n === 0) return [];
  return [
    `${n} file${n === 1 ? '' : 's'} under grants/ differ${n === 1 ? 's' : ''} from ${commit.slice(0, 12)} (uncommitted): using the committed content; commit them to act on them`,
  ];
}
