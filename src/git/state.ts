import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runGit } from './run.js';

/**
 * The repository's root, found as git finds it from any folder inside: the
 * work tree's top level; outside git, the nearest folder up that holds
 * grants/. So a command run from grants/<app>/ reads the whole repository
 * and keeps its state at the root, never a second embedded database there.
 */
export async function repositoryRoot(cwd: string, given: string | undefined): Promise<string> {
  const start = resolve(cwd, given ?? '.');
  // A folder that is not there is said to be missing by whoever reads it, not searched above.
  if (!isFolder(start)) return start;
  const top = await runGit(start, ['rev-parse', '--show-toplevel'], [0, 128]).catch(() => undefined);
  const root = top?.code === 0 ? top.stdout.trim() : undefined;
  if (root) return root;
  for (let dir = start; ; dir = dirname(dir)) {
    if (isFolder(join(dir, 'grants'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** Where a command starts reading a repository: its root, and where git knows it, its HEAD commit (or none) and whether it is shallow. */
export interface RepositoryStart {
  root: string;
  /** Set when git read the repository: HEAD's commit, or null when HEAD has none yet. */
  git?: { head: string | null; shallow: boolean };
}

/**
 * `repositoryRoot`, with HEAD's commit and whether the clone is shallow, from
 * the same one git process (`rev-parse --show-toplevel --is-shallow-repository
 * --verify HEAD^{commit}`): a command that reads HEAD's history resolves it
 * once. Outside a work tree, the root as `repositoryRoot` finds it, without.
 */
export async function repositoryStart(cwd: string, given: string | undefined): Promise<RepositoryStart> {
  const start = resolve(cwd, given ?? '.');
  if (!isFolder(start)) return { root: start };
  const out = await runGit(
    start,
    [
      'rev-parse',
      '--show-toplevel',
      '--is-shallow-repository',
      '--verify',
      '--quiet',
      '--end-of-options',
      'HEAD^{commit}',
    ],
    [0, 1, 128],
  ).catch(() => undefined);
  // The top level (a path, which may hold anything), then "true" or "false", then HEAD's commit when it has one.
  const lines = out && out.code !== 128 ? out.stdout.replace(/\n$/, '').split('\n') : [];
  const head = out?.code === 0 ? (lines.pop() ?? '') : null;
  const shallow = lines.pop();
  const root = lines.join('\n').trim();
  if (!root || (shallow !== 'true' && shallow !== 'false') || head === '')
    return { root: await repositoryRoot(cwd, given) };
  return { root, git: { head, shallow: shallow === 'true' } };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Where a run keeps its lock and journal: inside the git directory, which no
 * commit can write (a committed `.iden/lock` or journal would otherwise be
 * read as a run's own); outside git, `.iden/` at the root.
 */
export async function runStateDir(root: string, ...parts: string[]): Promise<string> {
  const git = await runGit(root, ['rev-parse', '--absolute-git-dir'], [0, 128]).catch(() => undefined);
  const base = git?.code === 0 ? join(git.stdout.trim(), 'iden') : localStateDir(root);
  const path = join(base, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

/** The folder iden keeps per-clone data in (embedded databases, caches): `.iden/`, which ignores itself. */
export function localStateDir(root: string, ...parts: string[]): string {
  const dir = join(root, '.iden');
  if (!existsSync(join(dir, '.gitignore'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '# iden keeps its local state here: never commit it.\n*\n');
  }
  const path = join(dir, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Files under `.iden/` that git tracks: state that came with the repository, never iden's own. */
export async function trackedState(root: string): Promise<string[]> {
  const out = await runGit(root, ['ls-files', '-z', '--', '.iden'], [0, 128]).catch(() => undefined);
  return out?.code === 0 ? out.stdout.split('\0').filter(Boolean) : [];
}

/** Whether git tracks anything under `.iden/` (then a cache there came with the repository, not from this machine). */
export function tracksState(root: string): boolean {
  try {
    return (
      execFileSync('git', ['ls-files', '--', '.iden'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== ''
    );
  } catch {
    return false;
  }
}
