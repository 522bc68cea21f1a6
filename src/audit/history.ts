import { readObjects } from '../git/blobs.js';
import { resolveRef } from '../git/diff.js';
import { firstParentRaw, firstParentSubjects, isShallow } from '../git/log.js';
import { GRANT_PATH } from '../policy/classify.js';

export const SETTINGS_PATH = 'grants/_settings.yaml';

/** One grant file (or the settings) as a commit changed it. No renames: a move is a deletion and an addition. */
export interface FileChange {
  status: 'A' | 'M' | 'D';
  path: string;
  /** The version before the commit (M, D); absent when it was not a regular file. */
  oldBlob?: string | undefined;
  /** The version after the commit (A, M); absent when it is not a regular file. */
  newBlob?: string | undefined;
}

export interface Commit {
  sha: string;
  /** Its place in HEAD's first-parent history, from 0 at the oldest commit. */
  position: number;
  parents: string[];
  /** The committer date the commit claims (epoch ms): a claim, which `placeInTime` checks. */
  claimed: number;
  author: string;
  email: string;
  committer: string;
  subject: string;
  /** The grant files the commit changed, against its first parent. */
  files: FileChange[];
  /** Every file under grants/ the commit changed (settings, people, apps and grants), against its first parent. */
  changes: FileChange[];
  /** Set when the commit changed grants/_settings.yaml: its new version, or null when deleted. */
  settings?: string | null;
}

export interface History {
  head: string | undefined;
  /** First-parent commits that changed something under grants/, oldest first. */
  commits: Commit[];
  /** Every first-parent commit's position (records may sit on commits that change no grant). */
  positions: Map<string, number>;
  shallow: boolean;
  /** First-parent merges whose subject starts as an access review's close does (campaigns.ts reads them). */
  closes: Close[];
}

/** A first-parent merge that may close an access-review campaign: its id, parents, committer date and subject. */
export interface Close {
  sha: string;
  parents: string[];
  /** The committer date (epoch ms). */
  date: number;
  subject: string;
}

const CLOSE_SUBJECT = 'Close access review ';

const ZERO = /^0+$/;
const REGULAR = /^100[67]44$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const PARENTS = /^([0-9a-f]{40}([0-9a-f]{24})?( [0-9a-f]{40}([0-9a-f]{24})?)*)?$/;

/**
 * HEAD's first-parent history of grants/, read so that nothing a commit says
 * about itself can change its shape: the file changes from `git log -z`
 * (NUL-separated, no rename detection, the only format field the commit id),
 * the author, committer, date and subject from the commit objects
 * themselves (`git cat-file --batch`). A merged pull request is one commit:
 * its merge, with what it brought to the branch.
 */
export async function readHistory(root: string, ref = 'HEAD'): Promise<History> {
  const head = await resolveRef(root, ref);
  if (!head) return { head: undefined, commits: [], positions: new Map(), shallow: false, closes: [] };
  const [log, line, shallow] = await Promise.all([
    firstParentRaw(root, head, ['grants/'], true),
    firstParentSubjects(root, head),
    isShallow(root),
  ]);
  const { positions, closes } = parseLine(line);
  const commits: Commit[] = [];
  for (const { sha, parents, claimed, files, changes: all, settings } of parseRawLog(log)) {
    const position = positions.get(sha);
    if (position === undefined) continue;
    commits.push({
      sha,
      position,
      parents: parents ?? [],
      claimed: claimed ?? 0,
      author: '',
      email: '',
      committer: '',
      subject: '',
      files,
      changes: all,
      ...(settings !== undefined ? { settings } : {}),
    });
  }
  return { head, commits, positions, shallow, closes };
}

/**
 * The first-parent chain as `firstParentSubjects` prints it: each commit's
 * position, and the merges whose subject may close a campaign. One pass gives
 * both the order and the campaigns' closes: no second walk of the history.
 */
export function parseLine(out: string): { positions: Map<string, number>; closes: Close[] } {
  const positions = new Map<string, number>();
  const closes: Close[] = [];
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf('\0', start);
    if (end < 0) end = out.length;
    const a = out.indexOf('\x01', start);
    const sha = out.slice(start + (out[start] === '\n' ? 1 : 0), a < 0 || a > end ? end : a);
    if (sha !== '') {
      if (!SHA.test(sha)) throw new Error(`unexpected git log output: ${JSON.stringify(sha.slice(0, 80))}`);
      positions.set(sha, positions.size);
      const b = out.indexOf('\x01', a + 1);
      const c = out.indexOf('\x01', b + 1);
      if (a >= 0 && b >= 0 && c >= 0 && c < end && out.startsWith(CLOSE_SUBJECT, c + 1)) {
        const parents = out.slice(a + 1, b);
        const d = out.indexOf('\x01', c + 1);
        if (PARENTS.test(parents))
          closes.push({
            sha,
            parents: parents === '' ? [] : parents.split(' '),
            date: Number(out.slice(b + 1, c)) * 1000,
            subject: out.slice(c + 1, d >= 0 && d < end ? d : end),
          });
      }
    }
    start = end + 1;
  }
  return { positions, closes };
}

/** Commits whose author, committer and subject have been read. */
const described = new WeakSet<Commit>();

/**
 * Reads the author, committer and subject of these commits from the commit
 * objects themselves (`git cat-file --batch`), where not read yet: only the
 * commits a question shows are read, not the whole history.
 */
export async function describeCommits(root: string, commits: readonly Commit[]): Promise<void> {
  const wanted = commits.filter((c) => !described.has(c));
  if (wanted.length === 0) return;
  const objects = await readObjects(
    root,
    wanted.map((c) => c.sha),
  );
  for (const commit of wanted) {
    const object = objects.get(commit.sha);
    if (object?.type !== 'commit') continue;
    const { author, email, committer, subject } = parseCommit(object.data);
    Object.assign(commit, { author, email, committer, subject });
    described.add(commit);
  }
}

type Logged = {
  sha: string;
  /** With the dated format: the parents and committer date git gave. */
  parents?: string[];
  claimed?: number;
  files: FileChange[];
  changes: FileChange[];
  settings?: string | null;
};

/**
 * `git log --raw -z --format=%x00%H` output: each commit is its id, then
 * `:<modes> <blobs> <status>` and a path, every field ending in NUL. Every
 * path is kept in `changes`; grant files also in `files`, the settings'
 * new version in `settings`.
 */
export function parseRawLog(out: string): Logged[] {
  const commits: Logged[] = [];
  const fields = out.split('\0');
  let current: Logged | undefined;
  for (let i = 0; i < fields.length; i++) {
    const raw = fields[i]!;
    const field = raw.charCodeAt(0) === 10 ? raw.slice(1) : raw;
    if (SHA.test(field)) {
      current = { sha: field, files: [], changes: [] };
      commits.push(current);
      // The dated format: the parents (hex ids, space-separated) and the committer date (digits) follow.
      const parents = fields[i + 1];
      const date = fields[i + 2];
      if (parents !== undefined && date !== undefined && PARENTS.test(parents) && /^\d+$/.test(date)) {
        current.parents = parents === '' ? [] : parents.split(' ');
        current.claimed = Number(date) * 1000;
        i += 2;
      }
      continue;
    }
    if (!field.startsWith(':') || !current) continue;
    const path = fields[++i] ?? '';
    const [oldMode = '', newMode = '', oldBlob = '', newBlob = '', status = ''] = field.slice(1).split(' ');
    const kind = status[0];
    const before = !ZERO.test(oldBlob) && REGULAR.test(oldMode) ? oldBlob : undefined;
    const after = !ZERO.test(newBlob) && REGULAR.test(newMode) ? newBlob : undefined;
    const change: FileChange = { status: kind === 'A' ? 'A' : kind === 'D' ? 'D' : 'M', path };
    if (before !== undefined && kind !== 'A') change.oldBlob = before;
    if (after !== undefined && kind !== 'D') change.newBlob = after;
    current.changes.push(change);
    if (path === SETTINGS_PATH) current.settings = after ?? null;
    else if (GRANT_PATH.test(path)) current.files.push(change);
  }
  return commits.filter((c) => c.changes.length > 0);
}

/** A raw commit object's parents, author, committer, committer date and subject. */
export function parseCommit(
  data: Buffer,
): Pick<Commit, 'parents' | 'claimed' | 'author' | 'email' | 'committer' | 'subject'> {
  const text = data.toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = (split < 0 ? text : text.slice(0, split)).split('\n');
  const message = split < 0 ? '' : text.slice(split + 2);
  const parents: string[] = [];
  let author = { name: '', email: '' };
  let committer = { name: '', email: '', at: 0 };
  for (const line of headers) {
    if (line.startsWith(' ')) continue; // a continued header (a signature)
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'parent') parents.push(value);
    else if (key === 'author') author = ident(value);
    else if (key === 'committer') committer = ident(value);
  }
  return {
    parents,
    claimed: committer.at,
    author: author.name,
    email: author.email,
    committer: committer.name,
    subject: message.split('\n')[0] ?? '',
  };
}

function ident(value: string): { name: string; email: string; at: number } {
  const match = /^(.*?) ?<([^>]*)> (\d+) [+-]\d{4}$/.exec(value);
  return match
    ? { name: match[1]!, email: match[2]!, at: Number(match[3]) * 1000 }
    : { name: value, email: '', at: 0 };
}

/** The app and person a grant file path names. */
export function pathIdentity(path: string): { app: string; user: string } {
  // The second and third of its '/'-separated parts (as split would give them), without splitting.
  const a = path.indexOf('/');
  const b = a < 0 ? -1 : path.indexOf('/', a + 1);
  const c = b < 0 ? -1 : path.indexOf('/', b + 1);
  const app = a < 0 ? '' : path.slice(a + 1, b < 0 ? path.length : b);
  const file = b < 0 ? '' : path.slice(b + 1, c < 0 ? path.length : c);
  return { app, user: file.slice(0, -'.yaml'.length) };
}

export interface Placed {
  /** Each commit's date as the timeline uses it (epoch ms). */
  dates: Map<string, number>;
  /** Commits whose claimed date could not be true, and where they were placed. */
  adjusted: { sha: string; claimed: number; placed: number; why: string }[];
}

/**
 * Dates the timeline can trust: a commit on the branch cannot have landed
 * before its first parent did, nor after a run that applied it (or a later
 * commit) recorded its time, nor in the future. A claimed date outside those
 * bounds (a backdated or future-dated commit) is moved to the nearest bound
 * and said. Order is always the first-parent order, never the dates.
 */
export function placeInTime(
  commits: readonly Commit[],
  /** Run times of records, by the first-parent position of the commit each reconciled. */
  runs: readonly { position: number; run: number }[],
  now: number,
): Placed {
  const byPosition = [...runs].sort((a, b) => b.position - a.position);
  const dates = new Map<string, number>();
  const adjusted: Placed['adjusted'] = [];
  // The latest a commit can be: now, and every run at it or after it.
  const upper = new Map<string, number>();
  let bound = now;
  let r = 0;
  for (const commit of [...commits].reverse()) {
    while (r < byPosition.length && byPosition[r]!.position >= commit.position) {
      bound = Math.min(bound, byPosition[r]!.run);
      r++;
    }
    upper.set(commit.sha, bound);
  }
  let previous = Number.NEGATIVE_INFINITY;
  for (const commit of commits) {
    const latest = upper.get(commit.sha)!;
    let placed = Math.max(commit.claimed, previous);
    let why = placed !== commit.claimed ? 'before the commit it follows' : '';
    if (placed > latest) {
      placed = Math.max(latest, previous);
      why = latest === now ? 'in the future' : 'after a run that had already applied it';
    }
    if (placed !== commit.claimed) adjusted.push({ sha: commit.sha, claimed: commit.claimed, placed, why });
    dates.set(commit.sha, placed);
    previous = placed;
  }
  return { dates, adjusted };
}
