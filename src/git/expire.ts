import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { count } from '../util/plural.js';
import { identityArgs } from './identity.js';
import { gitIn } from './run.js';

export interface Expired {
  file: string;
  user: string;
  app: string;
  /** The end, as people read it (a date in the settings' zone). */
  ended: string;
}

/** The commit message that records ended grants (for people: `iden audit` judges an expiry by the end date, not the subject). */
export function expireMessage(expired: Expired[]): string {
  const lines = expired.map((e) => `expire: ${e.user} from ${e.app} (ended ${e.ended})`);
  if (lines.length === 1) return lines[0]!;
  return `expire: ${count(lines.length, 'grant')} ended\n\n${lines.join('\n')}\n`;
}

/**
 * Deletes ended grant files in one commit and pushes it, so the repository
 * shows current and future access and its history shows each end. Reports
 * rather than fails when there is no remote or no permission to push.
 */
export async function commitExpired(
  root: string,
  expired: Expired[],
  push: boolean,
  /** The commit's date (a run pinned with --at): so pinned histories stay in order. */
  date?: string,
): Promise<string[]> {
  if (expired.length === 0) return [];
  const git = gitIn(root);
  const notes: string[] = [];
  for (const e of expired) rmSync(join(root, e.file), { force: true });
  await git.raw(['add', '--all', '--', ...expired.map((e) => e.file)]);
  const identity = await identityArgs(root);
  const commit = [
    ...identity,
    'commit',
    '-q',
    '-m',
    expireMessage(expired),
    '--',
    ...expired.map((e) => e.file),
  ];
  if (date)
    await gitIn(root, { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }).raw(commit);
  else await git.raw(commit);
  notes.push(`committed the removal of ${expired.length} ended grant file${expired.length === 1 ? '' : 's'}`);
  if (!push) return notes;
  const remotes = await git.remotes();
  const remote = remotes.includes('origin') ? 'origin' : remotes[0];
  if (!remote)
    return [...notes, 'no remote to push the expiry commit to; the access was removed all the same'];
  const branch = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
  try {
    await git.raw(['push', remote, `HEAD:${branch}`]);
  } catch {
    try {
      // Someone pushed meanwhile: replay the expiry on top and try once more.
      await git.raw([...identity, 'pull', '--rebase', '-q', remote, branch]);
      await git.raw(['push', remote, `HEAD:${branch}`]);
    } catch (e) {
      return [
        ...notes,
        `could not push the expiry commit to ${remote}: ${(e as Error).message.trim().split('\n')[0]}; the access was removed all the same`,
      ];
    }
  }
  return [...notes, `pushed the expiry commit to ${remote}/${branch}`];
}
