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
