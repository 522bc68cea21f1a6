import { execFileSync } from 'node:child_process';

/** Runs git in a test repository with a fixed identity and, when given, fixed dates. */
export function git(dir: string, args: string[], date = '2026-11-20T10:00:00Z'): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Alice Martin',
      GIT_AUTHOR_EMAIL: 'alice@example.com',
      GIT_COMMITTER_NAME: 'Alice Martin',
      GIT_COMMITTER_EMAIL: 'alice@example.com',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
}

/** Makes a folder a git repository with everything in it committed. */
export function commitAll(dir: string, message: string, date?: string): void {
  if (!gitExists(dir)) git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message], date);
}

function gitExists(dir: string): boolean {
  try {
    git(dir, ['rev-parse', '--git-dir']);
    return true;
  } catch {
    return false;
  }
}
