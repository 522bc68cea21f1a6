import { simpleGit } from 'simple-git';
import { readBlobs } from './blobs.js';
import { identityArgs } from './identity.js';

export const NOTES_REF = 'refs/notes/iden';

export interface RecordResult {
  /** What happened to the record, for the run's output. */
  message: string;
  kept: boolean;
  /** The remote refused the record (or could not be reached): the run must say so and fail. */
  pushFailed: boolean;
}

/**
 * Appends one JSON line to the git note of `commit` under refs/notes/iden and,
 * when asked and a remote exists, pushes the notes (merging the remote's first
 * if another run pushed meanwhile). A failure to record or push is reported,
 * never fatal: the access change has already happened.
 */
export async function appendRecord(
  root: string,
  commit: string,
  record: unknown,
  push: boolean,
): Promise<RecordResult> {
  const git = simpleGit({ baseDir: root });
  try {
    await git.raw([
      ...(await identityArgs(git)),
      'notes',
      `--ref=${NOTES_REF}`,
      'append',
      '-m',
      JSON.stringify(record),
      commit,
    ]);
  } catch (e) {
    return {
      kept: false,
      pushFailed: false,
      message: `apply record not kept: ${(e as Error).message.trim()}`,
    };
  }
  if (!push)
    return {
      kept: true,
      pushFailed: false,
      message: `apply record kept as a git note on ${commit.slice(0, 12)} (not pushed)`,
    };
  const remotes = await git.getRemotes();
  const remote = remotes.find((r) => r.name === 'origin')?.name ?? remotes[0]?.name;
  if (!remote)
    return {
      kept: true,
      pushFailed: false,
      message: `apply record kept as a git note on ${commit.slice(0, 12)}; no remote to push it to`,
    };
  try {
    await pushNotes(git, remote);
    return {
      kept: true,
      pushFailed: false,
      message: `apply record kept as a git note on ${commit.slice(0, 12)} and pushed to ${remote}`,
    };
  } catch (e) {
    return {
      kept: true,
      pushFailed: true,
      message: `apply record kept as a git note on ${commit.slice(0, 12)} but NOT pushed to ${remote}: ${(e as Error).message.trim().split('\n')[0]}; push refs/notes/iden by hand, or the next run will`,
    };
  }
}

async function pushNotes(git: ReturnType<typeof simpleGit>, remote: string): Promise<void> {
  try {
    await git.raw(['push', remote, NOTES_REF]);
  } catch {
    // Another run pushed notes meanwhile: take theirs, keep both, push again.
    await git.raw(['fetch', remote, `${NOTES_REF}:refs/notes/iden-remote`]);
    await git.raw([
      ...(await identityArgs(git)),
      'notes',
      `--ref=${NOTES_REF}`,
      'merge',
      '-s',
      'cat_sort_uniq',
      'refs/notes/iden-remote',
    ]);
    await git.raw(['push', remote, NOTES_REF]);
  }
}

/** Every record of every noted commit: commit id to its records, oldest line first. */
export async function readRecords(root: string): Promise<Map<string, unknown[]>> {
  const git = simpleGit({ baseDir: root });
  const records = new Map<string, unknown[]>();
  let listing: string;
  try {
    listing = await git.raw(['notes', `--ref=${NOTES_REF}`, 'list']);
  } catch {
    return records;
  }
  const pairs = listing
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string]);
  if (pairs.length === 0) return records;
  const blobs = await readBlobs(
    root,
    pairs.map(([note]) => note),
  );
  for (const [note, commit] of pairs) {
    const lines = (blobs.get(note) ?? '').split('\n').filter((l) => l.trim().startsWith('{'));
    const parsed = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as unknown];
      } catch {
        return [];
      }
    });
    records.set(commit, parsed);
  }
  return records;
}
