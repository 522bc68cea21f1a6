import { execFile } from 'node:child_process';

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
export function runGit(
  root: string,
  args: readonly string[],
  ok: readonly number[] = [0],
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'core.quotePath=false', ...args],
      {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const result = { stdout, stderr, code };
        if (!ok.includes(code)) reject(new GitCommandError(args, result));
        else resolve(result);
      },
    );
  });
}
