import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ApplyRecord, chainHeads, sealRecord } from '../model/record.js';
import { readBlobs } from './blobs.js';
import { identityArgs } from './identity.js';
import { type GitIn, gitIn, gitOut } from './run.js';

export const NOTES_REF = 'refs/notes/iden';

export interface RecordResult {
  /** What happened to the record, for the run's output. */
  message: string;
  kept: boolean;
  /** The remote refused the record (or could not be reached): the run must say so and fail. */
  pushFailed: boolean;
}

/** A record before it is sealed: the chain and the digest are added when it is written. */
export type RecordContent = Omit<ApplyRecord, 'prev' | 'digest' | 'mac'>;

export interface AppendOptions {
  push: boolean;
  /** The record key (IDEN_RECORD_KEY): the record carries its HMAC. */
  key?: string | undefined;
}

/**
 * Appends one run's record to the git note of the commit it reconciled under
 * refs/notes/iden, chained to the latest records: with a remote, the remote's
 * records are fetched and merged first, so the chain continues from theirs.
 * Then the notes are pushed (merging again if another run pushed meanwhile).
 * A failure to record or push is reported, never thrown: the access change
 * has already happened, and the caller fails the run.
 */
export async function appendRecord(
  root: string,
  content: RecordContent,
  options: AppendOptions,
): Promise<RecordResult & { record?: ApplyRecord }> {
  const git = gitIn(root);
  const where = content.commit.slice(0, 12);
  const remote = options.push ? await remoteOf(git) : undefined;
  if (remote) await mergeRemoteNotes(root, git, remote).catch(() => undefined);
  let record: ApplyRecord;
  try {
    const heads = chainHeads([...(await recordHeaders(root)).values()].flat());
    record = sealRecord({ ...content, prev: heads.map((h) => h.digest) }, options.key);
    // Through a file, not an argument: a record of thousands of changes is larger than an argument may be.
    const file = join(mkdtempSync(join(tmpdir(), 'iden-record-')), 'record.json');
    writeFileSync(file, JSON.stringify(record));
    try {
      await git.raw([
        ...(await identityArgs(root)),
        'notes',
        `--ref=${NOTES_REF}`,
        'append',
        '-F',
        file,
        content.commit,
      ]);
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  } catch (e) {
    return {
      kept: false,
      pushFailed: false,
      message: `apply record not kept: ${(e as Error).message.trim()}`,
    };
  }
  const kept = `apply record ${record.digest.slice(7, 19)} kept as a git note on ${where}`;
  if (!options.push) return { kept: true, pushFailed: false, record, message: `${kept} (not pushed)` };
  if (!remote) return { kept: true, pushFailed: false, record, message: `${kept}; no remote to push it to` };
  try {
    await pushNotes(root, git, remote);
    return { kept: true, pushFailed: false, record, message: `${kept} and pushed to ${remote}` };
  } catch (e) {
    return {
      kept: true,
      pushFailed: true,
      record,
      message: `${kept} but NOT pushed to ${remote}: ${(e as Error).message.trim().split('\n')[0]}; push refs/notes/iden by hand, or the next run will`,
    };
  }
}

async function remoteOf(git: GitIn): Promise<string | undefined> {
  const remotes = await git.remotes();
  return remotes.includes('origin') ? 'origin' : remotes[0];
}

/** Takes the remote's records, keeping both sides' lines. Fails when the remote has none (nothing to merge). */
async function mergeRemoteNotes(root: string, git: GitIn, remote: string): Promise<void> {
  await git.raw(['fetch', '-q', remote, `+${NOTES_REF}:refs/notes/iden-remote`]);
  await git.raw([
    ...(await identityArgs(root)),
    'notes',
    `--ref=${NOTES_REF}`,
    'merge',
    '-q',
    '-s',
    'cat_sort_uniq',
    'refs/notes/iden-remote',
  ]);
}

async function pushNotes(root: string, git: GitIn, remote: string): Promise<void> {
  try {
    await git.raw(['push', '-q', remote, NOTES_REF]);
  } catch {
    // Another run pushed notes meanwhile: take theirs, keep both, push again.
    await mergeRemoteNotes(root, git, remote);
    await git.raw(['push', '-q', remote, NOTES_REF]);
  }
}

/** One line of an apply-record note, as stored. */
export interface NoteLine {
  commit: string;
  /** Its line number in the note, from 1. */
  line: number;
  text: string;
}

/** Whether refs/notes/iden exists here (a clone fetches it only when asked). */
export async function notesPresent(root: string): Promise<boolean> {
  const out = await gitOut(root, ['rev-parse', '--verify', '--quiet', NOTES_REF]).catch(() => '');
  return out.trim() !== '';
}

/** The commits that have an apply-record note: the listing alone, no note read. */
export async function notedCommits(root: string): Promise<string[]> {
  try {
    const listing = await gitOut(root, ['notes', `--ref=${NOTES_REF}`, 'list']);
    return listing
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[1] ?? '');
  } catch {
    return [];
  }
}

/** The apply-record notes: [note blob, noted commit], in note order; none when there are none. */
export async function noteListing(root: string): Promise<[string, string][]> {
  let listing: string;
  try {
    listing = await gitOut(root, ['notes', `--ref=${NOTES_REF}`, 'list']);
  } catch {
    return [];
  }
  return listing
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string]);
}

/** Every line of every apply-record note, as text, in note order. */
export async function readNoteLines(root: string): Promise<NoteLine[]> {
  const pairs = await noteListing(root);
  if (pairs.length === 0) return [];
  const blobs = await readBlobs(
    root,
    pairs.map(([note]) => note),
  );
  const lines: NoteLine[] = [];
  for (const [note, commit] of pairs) {
    (blobs.get(note) ?? '').split('\n').forEach((text, i) => {
      if (text.trim() !== '') lines.push({ commit, line: i + 1, text });
    });
  }
  return lines;
}

/** Every record of every noted commit that parses as JSON: commit id to its records, oldest line first. */
export async function readRecords(root: string): Promise<Map<string, unknown[]>> {
  const records = new Map<string, unknown[]>();
  for (const { commit, text } of await readNoteLines(root)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const list = records.get(commit) ?? [];
    list.push(value);
    records.set(commit, list);
  }
  return records;
}

/**
 * readRecords without each record's `changes`: what the chain (digest, prev)
 * and a run's summary (run, at, held, skipped) need. Each note blob is read
 * and parsed once for the life of the process (a blob's content never
 * changes), so a long-lived process (iden serve) reads only the notes its
 * last run changed, and keeps none of the changes a large first apply made.
 */
export async function recordHeaders(root: string): Promise<Map<string, unknown[]>> {
  const pairs = await noteListing(root);
  const fresh = pairs.filter(([note]) => !headersByNote.has(note)).map(([note]) => note);
  const blobs = fresh.length > 0 ? await readBlobs(root, fresh) : new Map<string, string>();
  const records = new Map<string, unknown[]>();
  const seen = new Map<string, unknown[]>();
  for (const [note, commit] of pairs) {
    let headers = headersByNote.get(note);
    if (!headers) {
      headers = [];
      for (const text of (blobs.get(note) ?? '').split('\n')) {
        if (text.trim() === '') continue;
        try {
          const value = JSON.parse(text) as unknown;
          if (value && typeof value === 'object' && !Array.isArray(value)) {
            const { changes: _changes, ...rest } = value as Record<string, unknown>;
            headers.push(rest);
          } else headers.push(value);
        } catch {}
      }
    }
    seen.set(note, headers);
    records.set(commit, [...(records.get(commit) ?? []), ...headers]);
  }
  // Only the notes there now are kept: one process, one repository's notes.
  headersByNote.clear();
  for (const [note, headers] of seen) headersByNote.set(note, headers);
  return records;
}

const headersByNote = new Map<string, unknown[]>();

/** How this clone's apply records stand against its remote's. */
export type RemoteNotes =
  | { state: 'no-remote' | 'same' | 'ahead' | 'remote-has-none' }
  | { state: 'behind'; remote: string; sha: string }
  | { state: 'unreachable'; remote: string; why: string };

/**
 * Asks the remote (origin, else the only one) for its refs/notes/iden: `git pull`
 * never fetches notes, so a clone's records fall behind unseen. Behind means the
 * remote's notes commit is not in this clone's notes history.
 */
export async function remoteNotes(root: string, timeoutMs = 15_000): Promise<RemoteNotes> {
  const git = gitIn(root);
  const remote = await remoteOf(git).catch(() => undefined);
  if (!remote) return { state: 'no-remote' };
  let listing: string;
  try {
    listing = await new Promise<string>((resolve, reject) => {
      execFile(
        'git',
        ['ls-remote', remote, NOTES_REF],
        { cwd: root, timeout: timeoutMs, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
        (error, stdout, stderr) =>
          error ? reject(new Error(stderr.trim().split('\n').pop() || error.message)) : resolve(stdout),
      );
    });
  } catch (e) {
    return { state: 'unreachable', remote, why: (e as Error).message };
  }
  const sha = listing.split('\t')[0]?.trim();
  if (!sha) return { state: 'remote-has-none' };
  const local = (await git.raw(['rev-parse', '--verify', '--quiet', NOTES_REF]).catch(() => '')).trim();
  if (local === sha) return { state: 'same' };
  if (local) {
    const ancestor = await git
      .raw(['merge-base', '--is-ancestor', sha, local])
      .then(() => true)
      .catch(() => false);
    if (ancestor) return { state: 'ahead' };
  }
  return { state: 'behind', remote, sha };
}
