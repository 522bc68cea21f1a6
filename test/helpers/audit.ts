import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import type { Clock } from '../../src/model/clock.js';
import { runCli } from './cli.js';
import { git } from './git.js';

/** Commits everything as `author`, at `date` (both author and committer date). */
export function commitAs(dir: string, message: string, date: string, author = 'Alice Martin'): string {
  git(dir, ['add', '-A']);
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: `${author.split(' ')[0]!.toLowerCase()}@example.com`,
      GIT_COMMITTER_NAME: author,
      GIT_COMMITTER_EMAIL: `${author.split(' ')[0]!.toLowerCase()}@example.com`,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** A merge of `branch` into the current branch with GitHub's subject, as `author` at `date`. */
export function mergeAs(
  dir: string,
  branch: string,
  subject: string,
  date: string,
  author = 'Carol',
): string {
  execFileSync('git', ['merge', '-q', '--no-ff', '-m', subject, branch], {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: 'c@x',
      GIT_COMMITTER_NAME: author,
      GIT_COMMITTER_EMAIL: 'c@x',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

export interface AuditJson {
  source: {
    head: string | null;
    notesRef: string;
    shallow: boolean;
    notesFetched: boolean;
    rewrittenSince?: string;
    records: { total: number; verified: number };
  };
  warnings: { code: string; message: string; commit?: string }[];
  events: AuditEvent[];
}

/** `iden audit --format json`, parsed; the exit code is checked (0 unless told). */
export async function auditJson(
  dir: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; code?: number; clock?: Clock } = {},
): Promise<AuditJson> {
  const result = await runCli(['audit', '--repo', dir, '--format', 'json', ...args], {
    env: options.env ?? {},
    ...(options.clock ? { clock: options.clock } : {}),
  });
  if (result.code !== (options.code ?? 0))
    throw new Error(`exit ${result.code}: ${result.stderr}${result.stdout}`);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as AuditJson;
}

export const grantYaml = (user: string, permissions: string[], extra = '') =>
  `user: ${user}\napp: db\npermissions: [${permissions.join(', ')}]\n${extra}`;
