import { readObjects } from '../git/blobs.js';
import { resolveRef } from '../git/diff.js';
import { firstParentHistory, isShallow } from '../git/log.js';
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
const DIGITS = /^\d+$/;

/**
 * HEAD's first-parent history of grants/, read so that nothing a commit says
 * about itself can change its shape: one `git log -z` of the whole
 * first-parent line (NUL-separated, no rename detection, read field by field
 * in order: the id, parents and date are hex and digits, the subject ends at
 * its NUL, a change starts with `:`), and the author and committer from the
 * commit objects themselves (`git cat-file --batch`). A merged pull request
 * is one commit: its merge, with what it brought to the branch.
 */
export async function readHistory(
  root: string,
  /** HEAD's commit (null: none yet) and whether the clone is shallow, when the caller read them already. */
  known?: { head: string | null; shallow: boolean },
): Promise<History> {
  const head = known ? known.head : await resolveRef(root, 'HEAD');
  if (!head) return { head: undefined, commits: [], positions: new Map(), shallow: false, closes: [] };
  const [log, shallow] = await Promise.all([
    firstParentHistory(root, head, ['grants/']),
    known ? known.shallow : isShallow(root),
  ]);
  return { head, shallow, ...parseHistoryLog(log) };
}

/**
 * The log `firstParentHistory` prints: every first-parent commit's position,
 * the merges whose subject may close a campaign, and the commits that changed
 * something under grants/ with their changes. One walk gives all three.
 */
export function parseHistoryLog(out: string): Pick<History, 'commits' | 'positions' | 'closes'> {
  const positions = new Map<string, number>();
  const closes: Close[] = [];
  const commits: Commit[] = [];
  let at = 0;
  // The next NUL-ended field.
  const next = () => {
    let end = out.indexOf('\0', at);
    if (end < 0) end = out.length;
    const field = out.slice(at, end);
    at = end + 1;
    return field;
  };
  let current: Commit | undefined;
  while (at < out.length) {
    let field = next();
    if (field.charCodeAt(0) === 10) field = field.slice(1);
    if (field === '') continue;
    if (field.charCodeAt(0) === 58 && current) {
      change(current, field, next());
      continue;
    }
    // A commit: its id, parents, committer date and subject, in this order.
    const parents = next();
    const date = next();
    const subject = next();
    if (!SHA.test(field) || !PARENTS.test(parents) || !DIGITS.test(date))
      throw new Error(`unexpected git log output: ${JSON.stringify(field.slice(0, 80))}`);
    const sha = field;
    const position = positions.size;
    positions.set(sha, position);
    const parentList = parents === '' ? [] : parents.split(' ');
    const claimed = Number(date) * 1000;
    // A subject as the line's own listing gave it, up to its first \x01.
    const cut = subject.indexOf('\x01');
    if (subject.startsWith(CLOSE_SUBJECT))
      closes.push({
        sha,
        parents: parentList,
        date: claimed,
        subject: cut < 0 ? subject : subject.slice(0, cut),
      });
    current = {
      sha,
      position,
      parents: parentList,
      claimed,
      author: '',
      email: '',
      committer: '',
      subject: '',
      files: [],
      changes: [],
    };
    commits.push(current);
  }
  return { positions, closes, commits: commits.filter((c) => c.changes.length > 0) };
}

/** One raw change (`:<modes> <blobs> <status>`, then its path) of a commit. */
function change(commit: Commit, raw: string, path: string): void {
  // Its five space-separated parts, cut where they are: no array and no string for the parts not kept.
  const a = raw.indexOf(' ');
  const b = raw.indexOf(' ', a + 1);
  const c = raw.indexOf(' ', b + 1);
  const d = raw.indexOf(' ', c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0) {
    legacyChange(commit, raw, path);
    return;
  }
  const oldMode = raw.slice(1, a);
  const newMode = raw.slice(a + 1, b);
  const oldBlob = raw.slice(b + 1, c);
  const newBlob = raw.slice(c + 1, d);
  const kind = raw[d + 1];
  record(commit, path, oldMode, newMode, oldBlob, newBlob, kind);
}

/** A change of another shape than git writes: read as split would read it. */
function legacyChange(commit: Commit, raw: string, path: string): void {
  const [oldMode = '', newMode = '', oldBlob = '', newBlob = '', status = ''] = raw.slice(1).split(' ');
  record(commit, path, oldMode, newMode, oldBlob, newBlob, status[0]);
}

function record(
  commit: Commit,
  path: string,
  oldMode: string,
  newMode: string,
  oldBlob: string,
  newBlob: string,
  kind: string | undefined,
): void {
  const before = !ZERO.test(oldBlob) && REGULAR.test(oldMode) ? oldBlob : undefined;
  const after = !ZERO.test(newBlob) && REGULAR.test(newMode) ? newBlob : undefined;
  const entry: FileChange = { status: kind === 'A' ? 'A' : kind === 'D' ? 'D' : 'M', path };
  if (before !== undefined && kind !== 'A') entry.oldBlob = before;
  if (after !== undefined && kind !== 'D') entry.newBlob = after;
  commit.changes.push(entry);
  if (path === SETTINGS_PATH) commit.settings = after ?? null;
  else if (GRANT_PATH.test(path)) commit.files.push(entry);
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
