import { fastYaml } from '../load/fast-yaml.js';
import { type Instant, isoUtc, isTimeZone, parseTime } from '../model/time.js';
import { yaml } from '../util/yaml.js';
import { type Commit, pathIdentity } from './history.js';

export type EventKind =
  | 'granted'
  | 'changed'
  | 'revoked'
  | 'expired'
  | 'drift-removed'
  | 'retired'
  | 'apply-failed'
  | 'applied-unmatched'
  | 'reviewed';

/** What one run did for an event, from its apply record. */
export interface Applied {
  /** The commit the run reconciled. */
  commit: string;
  /** When the run started. */
  run: string;
  /** The instant it evaluated grants at (differs from `run` for a run pinned with --at). */
  at: string;
  command: string;
  /** The run, named: the workflow run in CI, else user@host. */
  by: string;
  action: 'grant' | 'revoke';
  entitlement?: string;
  license?: string;
  reason: string;
  outcome: string;
  error?: string;
}

/** How an event's pull request and approvals were judged (with a GitHub token). */
export interface Approval {
  /** Whether the merge satisfied the pull-request policy for this file, judged as check-pr judges. */
  ok: boolean;
  /** check-pr's classification of the file: direct-grant, access-request, change, … */
  classification: string;
  reason: string;
  /** When the last counted approval was given. */
  approvedAt?: string;
  /** Who merged the pull request (GitHub login). */
  mergedBy?: string;
  /** The access rules the file was approved under, and whose approvals counted for each (person ids). */
  rules?: { rule: string; needed: number; counted: string[] }[];
  /** It came in as emergency access, without approval. */
  emergency?: boolean;
  /** A rule marks it privileged. */
  privileged?: boolean;
}

export interface AuditEvent {
  commit: string;
  date: string;
  /** The commit's author; for an expiry, the run that removed the access; for record events, the run. */
  author: string;
  user: string;
  app: string;
  kind: EventKind;
  pr?: number;
  /** Where `pr` came from: GitHub's commit-to-pull-request API, or only the commit subject (no token). */
  prSource?: 'github' | 'subject';
  /** The pull request's author (GitHub login). */
  requestedBy?: string;
  /** Reviewers whose approval counted under the policy (GitHub logins). */
  approvers?: string[];
  approval?: Approval;
  /** Internal: the pull request's web address, for the review export. Not in the event output. */
  prUrl?: string;
  changes?: Record<string, { old?: unknown; new?: unknown }>;
  applied?: Applied[];
  /** For `reviewed`: the access-review campaign's decision on this grant (docs/reviews.md). */
  review?: { campaign: string; decision: string; reason?: string; note?: string; at?: string };
  /** Internal: the first-parent position of the commit, for placing records. Not output. */
  position: number;
  /** Internal: the grant file the event is about. Not output. */
  file?: string;
  /** Internal: the grant's fields after the event (before it, for revocations). Not output. */
  fields?: Fields;
}

export const FIELDS = [
  'user',
  'app',
  'permissions',
  'license',
  'start',
  'end',
  'reason',
  'emergency',
] as const;
export type Fields = Partial<Record<(typeof FIELDS)[number], unknown>>;

/** The pull request a subject names: GitHub's merge subject, or a squash's trailing "(#N)". Only a fallback. */
export function pullRequestFromSubject(subject: string): number | undefined {
  const match = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return match ? Number(match[1]) : undefined;
}

/** The time zone in force over time, from the versions of _settings.yaml the commits wrote. */
export function zoneHistory(
  commits: readonly Commit[],
  blobs: ReadonlyMap<string, string>,
  dates: ReadonlyMap<string, number>,
  zones = new ZoneHistory(),
): ZoneHistory {
  for (const commit of commits)
    if (commit.settings !== undefined)
      zones.set(
        dates.get(commit.sha) ?? commit.claimed,
        commit.settings ? blobs.get(commit.settings) : undefined,
      );
  return zones;
}

/** The time zone in force over time. */
export class ZoneHistory {
  private readonly changes: { from: Instant; zone: string }[] = [];

  set(from: Instant, settingsText: string | undefined): void {
    const zone = zoneFromSettings(settingsText);
    if (this.at(from) !== zone) this.changes.push({ from, zone });
  }

  at(instant: Instant): string {
    let zone = 'UTC';
    for (const change of this.changes) if (change.from <= instant) zone = change.zone;
    return zone;
  }

  /**
   * A date written in a grant, as an instant: read in the zone in force when
   * the grant was written, and again in the zone in force at that instant if
   * the settings had changed zone by then (as a run at that time would).
   */
  instant(text: string, written: Instant): Instant | undefined {
    const first = parseTime(text, this.at(written));
    if (!first.ok) return undefined;
    const later = this.at(first.at);
    if (later === this.at(written)) return first.at;
    const second = parseTime(text, later);
    return second.ok ? second.at : first.at;
  }
}

export function zoneFromSettings(text: string | undefined): string {
  const settings = parseMapping(text);
  const zone = settings?.timezone;
  return typeof zone === 'string' && isTimeZone(zone) ? zone : 'UTC';
}

export function parseMapping(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  // Most versions are a few plain lines: read directly, exactly as yaml would.
  const fast = fastYaml(text);
  if (fast) return fast;
  try {
    const value = yaml().parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A version of a grant file (by blob id) as its mapping, parsed once per audit; undefined when absent or not a mapping. */
export type ParseVersion = (blob: string | undefined) => Record<string, unknown> | undefined;

/** Parses each version of `texts` once, however many views ask: the mappings are shared, and never changed. */
export function versionParser(
  texts: ReadonlyMap<string, string>,
  parsed: Map<string, Record<string, unknown> | undefined>,
): ParseVersion {
  return (blob) => {
    if (blob === undefined) return undefined;
    let value = parsed.get(blob);
    if (value === undefined && !parsed.has(blob)) {
      value = parseMapping(texts.get(blob));
      parsed.set(blob, value);
    }
    return value;
  };
}

function readFields(value: Record<string, unknown> | undefined): Fields {
  const fields: Fields = {};
  if (value) for (const field of FIELDS) if (value[field] !== undefined) fields[field] = value[field];
  return fields;
}

/**
 * The events of grant files, pure: commits (first-parent order), the texts of
 * their file versions and the commits' trusted dates in, events out, oldest
 * first. One event per commit that changed a grant's fields; an `expired`
 * event wherever a version's end passed before it was next changed or
 * deleted, dated at the end, whatever any commit subject says.
 */
export function buildEvents(
  commits: readonly Commit[],
  parse: ParseVersion,
  dates: ReadonlyMap<string, number>,
  zones: ZoneHistory,
  now: Instant,
  /** Only these grant files (all when undefined). */
  wanted?: (path: string) => boolean,
): AuditEvent[] {
  const events: AuditEvent[] = [];
  const versions = new Map<string, { commit: Commit; date: Instant; fields: Fields }>();
  /** The version of `path` ends: an `expired` event when its end came by `until`. True when it did. */
  const close = (path: string, until: Instant, deletedBy?: Commit): boolean => {
    const version = versions.get(path);
    versions.delete(path);
    if (!version || typeof version.fields.end !== 'string') return false;
    const end = zones.instant(version.fields.end, version.date);
    if (end === undefined || end > until) return false;
    const at = Math.max(end, version.date);
    const commit = deletedBy ?? version.commit;
    events.push({
      commit: commit.sha,
      position: commit.position,
      date: isoUtc(at),
      author: '',
      ...pathIdentity(path),
      kind: 'expired',
      ...(deletedBy ? { changes: diff(version.fields, {}) ?? {} } : {}),
      file: path,
      fields: version.fields,
    });
    return true;
  };

  for (const commit of commits) {
    const date = dates.get(commit.sha) ?? commit.claimed;
    let iso: string | undefined;
    for (const file of commit.files) {
      if (wanted && !wanted(file.path)) continue;
      const old = versions.get(file.path)?.fields ?? readFields(parse(file.oldBlob));
      iso ??= isoUtc(date);
      if (file.status === 'D') {
        if (close(file.path, date, commit)) continue;
        events.push(made(commit, iso, file.path, 'revoked', diff(old, {}) ?? {}, old));
        continue;
      }
      const fields = readFields(parse(file.newBlob));
      close(file.path, date);
      versions.set(file.path, { commit, date, fields });
      const changes = diff(file.status === 'A' ? {} : old, fields);
      if (changes === undefined) continue;
      events.push(made(commit, iso, file.path, file.status === 'A' ? 'granted' : 'changed', changes, fields));
    }
  }
  for (const path of [...versions.keys()]) close(path, now);
  return sortEvents(events);
}

/** An event a commit made to a grant file: the commit's, dated, the file's person and app, what changed. */
function made(
  commit: Commit,
  date: string,
  path: string,
  kind: EventKind,
  changes: Record<string, { old?: unknown; new?: unknown }>,
  fields: Fields,
): AuditEvent {
  const { app, user } = pathIdentity(path);
  return {
    commit: commit.sha,
    position: commit.position,
    date,
    author: commit.author,
    app,
    user,
    file: path,
    kind,
    changes,
    fields,
  };
}

/** Oldest first; events at the same instant keep the order they were made in (each date read once). */
export function sortEvents(events: AuditEvent[]): AuditEvent[] {
  return events
    .map((event, index) => ({ event, index, at: Date.parse(event.date) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ event }) => event);
}

/** The fields that differ, as old and new; undefined when none does. */
function diff(old: Fields, next: Fields): Record<string, { old?: unknown; new?: unknown }> | undefined {
  let changes: Record<string, { old?: unknown; new?: unknown }> | undefined;
  for (const field of FIELDS) {
    const a = old[field];
    const b = next[field];
    if (same(a, b)) continue;
    const change: { old?: unknown; new?: unknown } = {};
    if (a !== undefined) change.old = a;
    if (b !== undefined) change.new = b;
    changes ??= {};
    changes[field] = change;
  }
  return changes;
}

/** Whether two field values read the same as JSON: strings and lists of strings (nearly every field) compared directly. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (a === undefined || b === undefined) return a === b;
  if (Array.isArray(a) && Array.isArray(b) && a.every(isString) && b.every(isString))
    return a.length === b.length && a.every((x, i) => x === b[i]);
  return JSON.stringify(a) === JSON.stringify(b);
}

const isString = (x: unknown): x is string => typeof x === 'string';
