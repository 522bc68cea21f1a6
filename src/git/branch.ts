import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { OperatorError } from '../errors.js';

/**
 * simple-git, run as the person's terminal git would be. It leaves out the
 * environment's GIT_* variables (its guard against injected helpers); git
 * config, credential helpers and ssh keys still apply.
 */
export function gitAt(root: string): SimpleGit {
  return simpleGit({ baseDir: root });
}

/** What a git process needs of the environment to run as the person would. */
const PLAIN = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'XDG_CONFIG_HOME',
  'SystemRoot',
]);

/** Paths under grants/ that differ from HEAD: modified, staged, deleted or untracked. */
export async function dirtyGrants(root: string): Promise<string[]> {
  const out = await gitAt(root).raw([
    'status',
    '--porcelain',
    '-z',
    '--untracked-files=all',
    '--no-renames',
    '--',
    'grants/',
  ]);
  return out
    .split('\0')
    .filter(Boolean)
    .map((record) => record.slice(3));
}

/** The checked-out branch, or undefined when HEAD is detached. */
export async function currentBranch(root: string): Promise<string | undefined> {
  const name = await gitAt(root)
    .raw(['symbolic-ref', '--quiet', '--short', 'HEAD'])
    .catch(() => '');
  return name.trim() || undefined;
}

export async function branchExists(root: string, branch: string): Promise<boolean> {
  const out = await gitAt(root)
    .raw(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])
    .catch(() => '');
  return out.trim() !== '';
}

/** Whether git takes the name as a branch name (no spaces, no `..`, not `-x` and so on). */
export async function validBranchName(root: string, branch: string): Promise<boolean> {
  if (branch.startsWith('-')) return false;
  return gitAt(root)
    .raw(['check-ref-format', '--branch', branch])
    .then(
      () => true,
      () => false,
    );
}

/** The remote to push to: origin, else the only one there is. */
export async function pushRemote(
  root: string,
): Promise<{ name: string; url: string; push: string } | undefined> {
  const remotes = await gitAt(root).getRemotes(true);
  const remote = remotes.find((r) => r.name === 'origin') ?? (remotes.length === 1 ? remotes[0] : undefined);
  // The fetch URL names the repository (a push URL may be a mirror or a local path).
  return (
    remote && {
      name: remote.name,
      url: remote.refs.fetch || remote.refs.push,
      push: remote.refs.push || remote.refs.fetch,
    }
  );
}

/** Whether the remote's push URL already has the branch; throws an OperatorError when it cannot be read. */
export async function remoteHasBranch(
  root: string,
  remote: { name: string; push: string },
  branch: string,
): Promise<boolean> {
  try {
    const out = await gitAt(root).raw(['ls-remote', '--heads', remote.push, `refs/heads/${branch}`]);
    return out.trim() !== '';
  } catch (e) {
    throw new OperatorError(
      `cannot read the remote ${remote.name}: ${firstLine(e)}; nothing was changed (--no-pr makes the branch without pushing it)`,
    );
  }
}

export interface BranchCommit {
  /** The commit the branch starts from. */
  from: string;
  branch: string;
  /** Path to new content, or null to delete it. */
  changes: ReadonlyMap<string, string | null>;
  message: string;
}

/**
 * One commit on a new branch, made from git objects with a private index: the
 * work tree, the real index and the checked-out branch are never touched, so
 * a failure or a kill leaves nothing half done. The branch is created only if
 * it does not exist (update-ref with an empty old value), as the configured
 * user (git config user.name and user.email).
 */
export async function commitOnNewBranch(root: string, change: BranchCommit): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'iden-grant-'));
  // A private index through GIT_INDEX_FILE; the person's identity and config variables pass, editors and pagers do not.
  const env: Record<string, string> = { GIT_INDEX_FILE: join(scratch, 'index') };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && (PLAIN.has(k) || /^GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL)$/.test(k))) env[k] ??= v;
  const git = simpleGit({
    baseDir: root,
    allowEnvironment: Object.keys(env).filter((k) => k.startsWith('GIT_')),
  }).env(env);
  try {
    await git.raw(['read-tree', change.from]);
    for (const [path, content] of change.changes) {
      if (content === null) {
        await git.raw(['update-index', '--force-remove', '--', path]);
        continue;
      }
      const file = join(scratch, 'blob');
      writeFileSync(file, content);
      const blob = (await git.raw(['hash-object', '-w', '--no-filters', '--', file])).trim();
      await git.raw(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`]);
    }
    const tree = (await git.raw(['write-tree'])).trim();
    let commit: string;
    try {
      commit = (await git.raw(['commit-tree', tree, '-p', change.from, '-m', change.message])).trim();
    } catch (e) {
      const text = firstLine(e);
      if (/tell me who you are|user\.(name|email)|empty ident/i.test(String((e as Error).message)))
        throw new OperatorError(
          'git does not know who you are: set git config user.name and user.email (the commit is yours); nothing was changed',
        );
      throw new OperatorError(`could not commit: ${text}; nothing was changed`);
    }
    try {
      await git.raw(['update-ref', `refs/heads/${change.branch}`, commit, '']);
    } catch (e) {
      throw new OperatorError(
        `could not create the branch ${change.branch}: ${firstLine(e)}; nothing was changed`,
      );
    }
    return commit;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Pushes the new branch (never forced); an error message on failure. */
export async function pushBranch(root: string, remote: string, branch: string): Promise<string | undefined> {
  try {
    await gitAt(root).raw(['push', '--quiet', remote, `refs/heads/${branch}:refs/heads/${branch}`]);
    return undefined;
  } catch (e) {
    return firstLine(e);
  }
}

function firstLine(e: unknown): string {
  return (
    String((e as Error).message ?? e)
      .trim()
      .split('\n')
      .find((l) => l.trim() !== '') ?? 'failed'
  );
}
