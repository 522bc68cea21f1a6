import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorError } from '../errors.js';
import { GitCommandError, runGit } from './run.js';

/**
 * The git calls of access reviews: commits made from objects with a private
 * index (the work tree, the index and the checked-out branch are never
 * touched), pushes of exact commits with a lease, and the reads a campaign
 * needs (blobs of paths at a commit, commit messages in a range).
 */

export interface OntoCommit {
  /** The first parent; more parents after it (a merge). */
  parents: string[];
  /** Path to new content, or null to delete it, applied to the first parent's tree. */
  changes: ReadonlyMap<string, string | null>;
  message: string;
  /** Author and committer, when not the configured user. */
  as?: { name: string; email: string };
  /** Fixed author and committer date (ISO 8601), when given. */
  date?: string;
}

/** Makes a commit object and returns it; no ref moves. */
export async function commitOnto(root: string, change: OntoCommit): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'iden-review-'));
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_INDEX_FILE: join(scratch, 'index') };
  if (change.as) {
    env.GIT_AUTHOR_NAME = env.GIT_COMMITTER_NAME = change.as.name;
    env.GIT_AUTHOR_EMAIL = env.GIT_COMMITTER_EMAIL = change.as.email;
  }
  if (change.date) env.GIT_AUTHOR_DATE = env.GIT_COMMITTER_DATE = change.date;
  const git = (args: string[], input?: string) => gitEnv(root, args, env, input);
  try {
    await git(['read-tree', change.parents[0]!]);
    for (const [path, content] of change.changes) {
      if (content === null) {
        await git(['update-index', '--force-remove', '--', path]);
        continue;
      }
      const file = join(scratch, 'blob');
      writeFileSync(file, content);
      const blob = (await git(['hash-object', '-w', '--no-filters', '--', file])).trim();
      await git(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`]);
    }
    const tree = (await git(['write-tree'])).trim();
    try {
      return (
        await git(
          ['commit-tree', tree, ...change.parents.flatMap((p) => ['-p', p]), '-F', '-'],
          change.message,
        )
      ).trim();
    } catch (e) {
      if (/tell me who you are|user\.(name|email)|empty ident/i.test((e as Error).message))
        throw new OperatorError(
          'git does not know who you are: set git config user.name and user.email (the commit is yours); nothing was changed',
        );
      throw new OperatorError(
        `could not commit: ${(e as Error).message.split('\n')[0]}; nothing was changed`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function gitEnv(root: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  try {
    return (await runGit(root, args, [0], { env, input: input ?? '' })).stdout;
  } catch (e) {
    throw e instanceof GitCommandError ? new Error(e.result.stderr.trim() || e.message) : e;
  }
}

/**
 * Pushes commits to branches of the remote in one push. `lease` names the
 * commit each branch must be at (empty: must not exist); without one the
 * push must be a fast-forward. An error message on failure.
 */
export async function pushCommits(
  root: string,
  remote: string,
  updates: { commit: string; branch: string; lease?: string }[],
): Promise<string | undefined> {
  if (updates.length === 0) return undefined;
  const leases = updates.flatMap((u) =>
    u.lease === undefined ? [] : [`--force-with-lease=refs/heads/${u.branch}:${u.lease}`],
  );
  const specs = updates.map((u) => `${u.commit}:refs/heads/${u.branch}`);
  const out = await runGit(
    root,
    ['push', '--quiet', '--porcelain', ...leases, remote, ...specs],
    [0, 1, 128],
  );
  if (out.code === 0) return undefined;
  return (out.stderr.trim() || out.stdout.trim()).split('\n').find((l) => l.trim()) ?? 'push refused';
}

/** Fetches branches of the remote into refs/remotes/<remote>/…; the commit of each that exists. */
export async function fetchBranches(
  root: string,
  branches: readonly string[],
  remote = 'origin',
): Promise<Map<string, string>> {
  const specs = branches.map((b) => `+refs/heads/${b}:refs/remotes/${remote}/${b}`);
  // A branch the remote no longer has is no error: fetch each missing one is told apart below.
  await runGit(root, ['fetch', '-q', '--no-tags', remote, ...specs], [0, 1, 128]).then(async (r) => {
    if (r.code !== 0)
      for (const spec of specs) await runGit(root, ['fetch', '-q', '--no-tags', remote, spec], [0, 1, 128]);
  });
  const found = new Map<string, string>();
  for (const b of branches) {
    const out = await runGit(
      root,
      ['rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/${b}^{commit}`],
      [0, 1],
    );
    if (out.code === 0) found.set(b, out.stdout.trim());
  }
  return found;
}

/** The blob of each path at a commit (paths absent there are left out). */
export async function blobsAt(
  root: string,
  commit: string,
  paths: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const listed = await runGit(root, [
    'ls-tree',
    '-r',
    '-z',
    '--full-tree',
    commit,
    '--',
    ...new Set(paths.map(dirOf)),
  ]);
  const wanted = new Set(paths);
  for (const record of listed.stdout.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const path = record.slice(tab + 1);
    if (wanted.has(path)) out.set(path, record.slice(0, tab).split(' ')[2]!);
  }
  return out;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : `${path.slice(0, slash)}/`;
}

export interface LoggedCommit {
  sha: string;
  /** Committer date, ISO 8601 strict. */
  date: string;
  authorEmail: string;
  message: string;
}

/** The commits of a range (`a..b`, or one ref), oldest first, with their whole messages. */
export async function commitsIn(root: string, range: string, firstParent = false): Promise<LoggedCommit[]> {
  const out = await runGit(root, [
    'log',
    '--reverse',
    ...(firstParent ? ['--first-parent'] : []),
    '--format=%x00%H%x01%cI%x01%ae%x01%B',
    range,
    '--',
  ]);
  return out.stdout
    .split('\0')
    .filter((c) => c.includes('\u0001'))
    .map((c) => {
      const [sha = '', date = '', authorEmail = '', message = ''] = c.split('\u0001');
      return { sha, date, authorEmail, message };
    });
}

/** Who added each grant file, when, on the first-parent history of `head` (the last addition of a path wins). */
export async function additions(
  root: string,
  head: string,
  folder: string,
): Promise<Map<string, { commit: string; date: string; author: string }>> {
  const out = await runGit(root, [
    'log',
    '--first-parent',
    '--diff-merges=first-parent',
    '--reverse',
    '--no-renames',
    '--diff-filter=A',
    '--name-only',
    '-z',
    '--format=%x01%H %cI %an',
    head,
    '--',
    folder,
  ]);
  const found = new Map<string, { commit: string; date: string; author: string }>();
  let current = { commit: '', date: '', author: '' };
  for (const field of out.stdout.split('\0')) {
    for (const part of field.split('\n')) {
      if (part.startsWith('\u0001')) {
        const [commit = '', date = '', ...name] = part.slice(1).split(' ');
        current = { commit, date, author: name.join(' ') };
      } else if (part.trim()) found.set(part.trim(), current);
    }
  }
  return found;
}

/** The commit a remote-tracking branch is at, or undefined. */
export async function remoteCommit(
  root: string,
  branch: string,
  remote = 'origin',
): Promise<string | undefined> {
  const out = await runGit(
    root,
    ['rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/${branch}^{commit}`],
    [0, 1],
  );
  return out.code === 0 ? out.stdout.trim() : undefined;
}

/** The last commit at or before `head` that changed `path` (first-parent), or undefined. */
export async function lastChange(root: string, head: string, path: string): Promise<string | undefined> {
  const out = await runGit(root, ['log', '-1', '--first-parent', '--format=%H', head, '--', path]);
  return out.stdout.trim() || undefined;
}

/**
 * Fetches the remote's apply records (refs/notes/iden) when it has any and
 * they fast-forward the local ones: a report then reads the records every
 * clone of that remote reads. Local records not pushed are kept.
 */
export async function fetchNotes(root: string, remote = 'origin'): Promise<void> {
  await runGit(root, ['fetch', '-q', '--no-tags', remote, 'refs/notes/iden:refs/notes/iden'], [0, 1, 128]);
}

/** A commit's committer date, ISO 8601 strict. */
export async function commitDate(root: string, commit: string): Promise<string> {
  return (await runGit(root, ['show', '-s', '--format=%cI', commit])).stdout.trim();
}
