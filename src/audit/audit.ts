import { readBlobs } from '../git/blobs.js';
import { NOTES_REF, notesPresent, readNoteLines, remoteNotes } from '../git/notes.js';
import { describeRun } from '../model/record.js';
import { type Instant, isoUtc } from '../model/time.js';
import { attachRecords } from './applied.js';
import { addApprovals, type ReviewSource } from './approvals.js';
import { type AccessView, accessAsOf } from './as-of.js';
import { campaignEvents } from './campaigns.js';
import {
  type AuditEvent,
  buildEvents,
  type ParseVersion,
  sortEvents,
  versionParser,
  ZoneHistory,
  zoneHistory,
} from './events.js';
import {
  type Commit,
  describeCommits,
  type History,
  pathIdentity,
  placeInTime,
  readHistory,
} from './history.js';
import { type CheckedRecords, checkRecords, type Warning } from './records.js';

export interface AuditQuery {
  user?: string | undefined;
  app?: string | undefined;
  since?: Instant | undefined;
  until?: Instant | undefined;
  now: Instant;
}

/** How complete the audit is: what it was read from. */
export interface AuditSource {
  head: string | null;
  notesRef: string;
  shallow: boolean;
  notesFetched: boolean;
  /** The earliest run whose commit is no longer on the branch (a history rewrite since). */
  rewrittenSince?: string;
  records: { total: number; verified: number };
}

export interface AuditData {
  history: History;
  dates: Map<string, number>;
  zones: ZoneHistory;
  checked: CheckedRecords;
  source: AuditSource;
  warnings: Warning[];
  /** File versions read so far, by blob id: every view of one audit reads each version once. */
  versions: Map<string, string>;
  /** The same versions' mappings, each parsed once and shared by every view. */
  parsed: Map<string, Record<string, unknown> | undefined>;
  /** The settings' versions whose time zones `zones` does not hold yet: read with the first view's versions. */
  unreadSettings?: string[] | undefined;
}

/**
 * These versions, read from git only where no view of this audit has read
 * them yet, and parsed once. The first read also takes the settings' versions
 * (the time zone over time): one `git cat-file` for both.
 */
async function readVersions(root: string, data: AuditData, ids: string[]): Promise<ParseVersion> {
  const missing = ids.filter((id) => !data.versions.has(id));
  const settings = data.unreadSettings;
  if (missing.length > 0 || settings) {
    const blobs = await readBlobs(root, settings ? [...settings, ...missing] : missing, { many: true });
    if (settings) {
      data.unreadSettings = undefined;
      zoneHistory(data.history.commits, blobs, data.dates, data.zones);
    }
    for (const id of missing) {
      const text = blobs.get(id);
      if (text !== undefined) data.versions.set(id, text);
    }
  }
  return versionParser(data.versions, data.parsed);
}

/**
 * Reads what every audit question needs, once: the branch's history of
 * grants/ (with dates checked against order and records), the time zone in
 * force over time, and the apply records, verified. What makes the answer
 * incomplete is collected as warnings.
 */
export async function readAudit(
  root: string,
  env: NodeJS.ProcessEnv,
  now: Instant,
  /**
   * From the settings' records.signedSince: before it, records may be unsigned even with a key.
   * A promise lets HEAD's settings be read while the history is.
   */
  signedSince?: Instant | Promise<Instant | undefined>,
  /** The branch's history, when its read was started already. */
  started?: Promise<History>,
): Promise<AuditData> {
  const [history, lines, present, remote, signedFrom] = await Promise.all([
    started ?? readHistory(root),
    readNoteLines(root),
    notesPresent(root),
    remoteNotes(root),
    signedSince,
  ]);
  // Records here but older than the remote's are not "fetched": a pull never brings notes.
  const notesFetched = present && remote.state !== 'behind';
  const checked = await checkRecords(lines, history.positions, env.IDEN_RECORD_KEY || undefined, signedFrom);
  const warnings: Warning[] = [];
  if (history.shallow)
    warnings.push({
      code: 'shallow-clone',
      message: `this is a shallow clone: history before ${history.commits[0] ? isoUtc(history.commits[0].claimed) : 'its first commit'} is missing, so first events and --as-of before it are wrong; fetch it with git fetch --unshallow`,
    });
  if (present && remote.state === 'behind')
    warnings.push({
      code: 'records-behind',
      message: `${remote.remote} has apply records this clone does not (its ${NOTES_REF} is ${remote.sha.slice(0, 12)}): what was applied is incomplete here; fetch them with git fetch ${remote.remote} ${NOTES_REF}:${NOTES_REF}`,
    });
  else if (remote.state === 'unreachable')
    warnings.push({
      code: 'records-unconfirmed',
      message: `could not ask ${remote.remote} for its apply records (${remote.why}): it may hold records this clone does not`,
    });
  if (!present)
    warnings.push({
      code: 'no-records',
      message: `no apply records here (${NOTES_REF} is absent): what was applied is unknown; fetch them with git fetch origin ${NOTES_REF}:${NOTES_REF}`,
    });
  warnings.push(...checked.warnings);
  const placed = placeInTime(
    history.commits,
    checked.records.flatMap((r) => (r.position !== undefined ? [{ position: r.position, run: r.run }] : [])),
    now,
  );
  for (const a of placed.adjusted)
    warnings.push({
      code: 'commit-date',
      message: `commit ${a.sha.slice(0, 12)} claims ${isoUtc(a.claimed)}, ${a.why}: placed at ${isoUtc(a.placed)}`,
      commit: a.sha,
    });
  return {
    history,
    dates: placed.dates,
    // Filled by the first view's read of versions (readVersions), with them.
    zones: new ZoneHistory(),
    unreadSettings: history.commits.flatMap((c) => (c.settings ? [c.settings] : [])),
    checked,
    warnings,
    versions: new Map(),
    parsed: new Map(),
    source: {
      head: history.head ?? null,
      notesRef: NOTES_REF,
      shallow: history.shallow,
      notesFetched,
      ...(checked.rewrittenSince ? { rewrittenSince: checked.rewrittenSince } : {}),
      records: { total: checked.total, verified: checked.verified },
    },
  };
}

/**
 * The timeline: events of the grant files the query names, what runs did
 * for them, and approvals (with a token, from GitHub), filtered by person,
 * app and time. Only the versions of the files the query can touch are read.
 */
export async function auditEvents(
  root: string,
  data: AuditData,
  query: AuditQuery,
  review: { source: ReviewSource | undefined; env: NodeJS.ProcessEnv },
  /** Only these events (approvals are read for no others). */
  keep?: (e: AuditEvent) => boolean,
): Promise<AuditEvent[]> {
  const wanted =
    query.app === undefined && query.user === undefined
      ? () => true
      : (path: string) => {
          const { app, user } = pathIdentity(path);
          return (
            (query.app === undefined || app === query.app) &&
            (query.user === undefined || user === query.user)
          );
        };
  const touched = data.history.commits.filter((c) => c.files.some((f) => wanted(f.path)));
  // The campaigns' closes came with the history's first-parent line: only their closing commits are read, beside the rest.
  const campaigns = campaignEvents(root, data.history.closes, data.history.positions, wanted);
  campaigns.catch(() => undefined);
  // Who made each commit is read beside the versions when every event is shown; else only for the events kept.
  const everything = keep === undefined && query.since === undefined && query.until === undefined;
  const [parse] = await Promise.all([
    readVersions(root, data, versionsOf(touched, wanted)),
    everything ? describeCommits(root, touched) : undefined,
  ]);
  // Only the commits that touch the wanted files can make their events.
  let events = buildEvents(touched, parse, data.dates, data.zones, query.now, wanted);
  const records = data.checked.records.filter((r) =>
    r.changes.some(
      (c) =>
        (query.app === undefined || c.app === query.app) &&
        (query.user === undefined || c.user === query.user),
    ),
  );
  events = attachRecords(
    events,
    records.map((r) => ({
      ...r,
      changes: r.changes.filter(
        (c) =>
          (query.app === undefined || c.app === query.app) &&
          (query.user === undefined || c.user === query.user),
      ),
    })),
    data.warnings,
  );
  events = sortEvents([...events, ...(await campaigns)]);
  events = events.filter((e) => {
    const at = Date.parse(e.date);
    return (
      (query.since === undefined || at >= query.since) &&
      (query.until === undefined || at < query.until) &&
      (keep === undefined || keep(e))
    );
  });
  if (!everything) await authors(root, touched, events);
  const line = [...data.history.positions].sort((a, b) => a[1] - b[1]).map(([sha]) => sha);
  await addApprovals(root, events, data.history.commits, line, review.source, review.env, data.warnings);
  return events;
}

/** Who was meant to have access at `at`, and what the records show of it. */
export async function auditAsOf(
  root: string,
  data: AuditData,
  at: Instant,
  app: string | undefined,
): Promise<AccessView> {
  const wanted = (path: string) => app === undefined || pathIdentity(path).app === app;
  const upTo = data.history.commits.filter((c) => (data.dates.get(c.sha) ?? c.claimed) <= at);
  const parse = await readVersions(root, data, versionsOf(upTo, wanted, true));
  const view = accessAsOf({
    commits: data.history.commits,
    dates: data.dates,
    parse,
    zones: data.zones,
    records: data.checked.records,
    haveRecords: data.source.notesFetched,
    describe: (r) => describeRun(r.by),
    at,
    app,
  });
  if (data.history.head && !view.commit)
    data.warnings.push({
      code: 'before-history',
      message: `${isoUtc(at)} is before the first commit of this history: no grant was in force`,
    });
  return view;
}

/**
 * Names the authors of these events' commits, read (`git cat-file --batch`)
 * only for the commits of the events kept: a change, grant or revocation is
 * its commit's author's (an expiry is no commit's).
 */
async function authors(
  root: string,
  commits: readonly Commit[],
  events: readonly AuditEvent[],
): Promise<void> {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const made = events.filter(
    (e) => (e.kind === 'granted' || e.kind === 'changed' || e.kind === 'revoked') && bySha.has(e.commit),
  );
  await describeCommits(root, [...new Set(made.map((e) => bySha.get(e.commit)!))]);
  for (const e of made) e.author = bySha.get(e.commit)!.author;
}

/** The blob ids of every version of the wanted grant files (only new versions when `newOnly`). */
function versionsOf(
  commits: readonly Commit[],
  wanted: (path: string) => boolean,
  newOnly = false,
): string[] {
  const ids: string[] = [];
  for (const commit of commits)
    for (const file of commit.files) {
      if (!wanted(file.path)) continue;
      if (file.newBlob) ids.push(file.newBlob);
      if (!newOnly && file.oldBlob) ids.push(file.oldBlob);
    }
  return ids;
}
