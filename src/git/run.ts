import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Exit, runHelped } from './spawner.js';

export interface GitResult {
  stdout: string;
  code: number;
  stderr: string;
}

/** A git command that failed: its arguments, exit code and what it said. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    super(`git ${args[0] ?? ''} failed (exit ${result.code}): ${result.stderr.trim().split('\n')[0] ?? ''}`);
  }
}

/**
 * Runs git in `root` and returns its output with the exit code, for the
 * commands whose exit code is an answer (merge-tree's 1 is "conflicts",
 * merge-base --is-ancestor's 1 is "no"). Codes outside `ok` throw. No
 * pager, no prompts, no repository-configured external tools.
 */
export async function runGit(
  root: string,
  args: readonly string[],
  ok: readonly number[] = [0],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
): Promise<GitResult> {
  const { exit, stdout, stderr } = await runHelped(
    {
      file: 'git',
      args: ['-c', 'core.quotePath=false', ...args],
      cwd: root,
      env: { ...(options.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' },
    },
    options.input,
  );
  const code = exit.code ?? -1;
  const result = {
    stdout: stdout.toString('utf8'),
    stderr: exit.error ? `${exit.error}\n${stderr}` : stderr.toString('utf8'),
    code,
  };
  if (!ok.includes(code)) throw new GitCommandError(args, result);
  return result;
}

/** What a git command prints, when it succeeds. */
export async function gitOut(root: string, args: readonly string[]): Promise<string> {
  return (await runGit(root, args)).stdout;
}

/** git in one folder, for the modules that run several commands there. */
export interface GitIn {
  raw(args: readonly string[]): Promise<string>;
  /** The remotes' names, as `git remote` lists them. */
  remotes(): Promise<string[]>;
}

export function gitIn(root: string, env?: NodeJS.ProcessEnv): GitIn {
  const raw = async (args: readonly string[]) => (await runGit(root, args, [0], env ? { env } : {})).stdout;
  return { raw, remotes: async () => (await raw(['remote'])).split('\n').filter(Boolean) };
}

/** The environment of a git whose bytes are read: no prompts, the C locale. */
const bytesEnv = () => ({ ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });

/** Throws unless the git whose bytes are read exited 0. */
function mustSucceed(args: readonly string[], exit: Exit, stderr: Buffer): void {
  if (exit.code !== 0) throw new Error(`git ${args[0]} failed: ${exit.error ?? stderr.toString().trim()}`);
}

/** What a git command prints, as bytes, given `input` on its stdin; fails unless it exits 0. */
export async function gitBytes(root: string, args: readonly string[], input: string): Promise<Buffer> {
  const { exit, stdout, stderr } = await runHelped({ file: 'git', args, cwd: root, env: bytesEnv() }, input);
  mustSucceed(args, exit, stderr);
  return stdout;
}

/**
 * `gitBytes` for an output of megabytes made of many small writes (`cat-file
 * --batch` writes each blob on its own): git writes it to a file of its own
 * (`sh -c 'exec git … >file'`), read back whole when git ends, instead of each
 * write passing through the helper process and this one as a piece of its
 * own. Where there is no `sh` or no temporary folder, through the pipe as
 * gitBytes does.
 */
export async function gitBytesThroughFile(
  root: string,
  args: readonly string[],
  input: string,
): Promise<Buffer> {
  const dir = scratch();
  if (!dir) return gitBytes(root, args, input);
  const file = join(dir, 'out');
  try {
    const { exit, stderr } = await runHelped(
      {
        file: 'sh',
        args: ['-c', 'f=$1; shift; exec git "$@" >"$f"', 'sh', file, ...args],
        cwd: root,
        env: bytesEnv(),
      },
      input,
    );
    if (exit.error === 'ENOENT') return await gitBytes(root, args, input);
    mustSucceed(args, exit, stderr);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a git command writes to `--output=<file>` (git log's own option): a
 * long log written to a file, read back whole when git ends, instead of
 * passing through the helper process a piece at a time (through the pipe
 * where no temporary folder can be made).
 */
export async function gitOutput(root: string, args: readonly string[]): Promise<string> {
  const dir = scratch();
  if (!dir) return gitOut(root, args);
  const file = join(dir, 'out');
  try {
    await runGit(root, [args[0] ?? '', `--output=${file}`, ...args.slice(1)]);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A folder of its own for one output, in the temporary folder; undefined where none can be made (then the pipe). */
function scratch(): string | undefined {
  try {
    return mkdtempSync(join(tmpdir(), 'iden-git-'));
  } catch {
    return undefined;
  }
}
