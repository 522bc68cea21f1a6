import { parse } from 'yaml';
import { type Instant, isoUtc, parseTime } from '../model/time.js';
import { groupBy } from '../util/group-by.js';
import { type Commit, pathIdentity } from './history.js';

export type EventKind = 'granted' | 'changed' | 'revoked' | 'expired';

export interface Applied {
  commit: string;
  /** When the run happened. */
  run: string;
  command: string;
  action: 'grant' | 'revoke';
  entitlement?: string;
  license?: string;
  reason: string;
  outcome: string;
}

export interface AuditEvent {
  commit: string;
  date: string;
  author: string;
  user: string;
  app: string;
  kind: EventKind;
  pr?: number;
  changes?: Record<string, { old?: unknown; new?: unknown }>;
  approvers?: string[];
  applied?: Applied[];
}

const FIELDS = ['user', 'app', 'permissions', 'license', 'start', 'end', 'reason'] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], unknown>>;

/** The commit subject `reconcile --commit` writes when it deletes ended grants. */
export const EXPIRE_SUBJECT = /^expire: /;

/**
 * One event per commit that touched a grant, plus an `expired` event where an
 * end date passed while the file stayed. Pure: commits and blob texts in,
 * events out, oldest first.
 */
export function buildEvents(
  commits: readonly Commit[],
  blobs: ReadonlyMap<string, string>,
  zone: string,
  now: Instant,
): AuditEvent[] {
  const events: AuditEvent[] = [];
  const versions = new Map<string, { commit: Commit; fields: Fields }>();
  const read = (blob: string | undefined): Fields => {
    try {
      const value = blob ? parse(blobs.get(blob) ?? '') : undefined;
      return value && typeof value === 'object' && !Array.isArray(value)
        ? pick(value as Record<string, unknown>)
        : {};
    } catch {
      return {};
    }
  };
  // When a version's end passed before it was next changed, the access expired then.
  const close = (path: string, until: Instant, expiredByCommit: boolean) => {
    const version = versions.get(path);
    versions.delete(path);
    if (!version || expiredByCommit || typeof version.fields.end !== 'string') return;
    const end = parseTime(version.fields.end, zone);
    if (!end.ok || end.at > until) return;
    const at = Math.max(end.at, Date.parse(version.commit.date));
    events.push({ ...header(version.commit, path), date: isoUtc(at), kind: 'expired' });
  };

  for (const commit of commits) {
    const when = Date.parse(commit.date);
    for (const file of commit.files) {
      const old =
        file.oldPath !== undefined ? (versions.get(file.oldPath)?.fields ?? read(file.oldBlob)) : {};
      if (file.status === 'D') {
        const expired = EXPIRE_SUBJECT.test(commit.subject);
        close(file.oldPath!, when, expired);
        events.push({
          ...header(commit, file.oldPath!),
          kind: expired ? 'expired' : 'revoked',
          changes: diff(old, {}),
        });
        continue;
      }
      const fields = read(file.newBlob);
      if (file.oldPath !== undefined) close(file.oldPath, when, false);
      versions.set(file.newPath!, { commit, fields });
      const changes = diff(old, fields);
      if (file.status === 'R') changes.file = { old: file.oldPath, new: file.newPath };
      if (Object.keys(changes).length === 0) continue;
      events.push({
        ...header(commit, file.newPath!),
        kind: file.status === 'A' ? 'granted' : 'changed',
        changes,
      });
    }
  }
  for (const path of [...versions.keys()]) close(path, now, false);
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => Date.parse(a.event.date) - Date.parse(b.event.date) || a.index - b.index)
    .map(({ event }) => event);
}

function header(commit: Commit, path: string): Omit<AuditEvent, 'kind'> {
  const pr = pullRequest(commit.subject);
  return {
    commit: commit.sha,
    date: isoUtc(Date.parse(commit.date)),
    author: commit.author,
    ...pathIdentity(path),
    ...(pr !== undefined ? { pr } : {}),
  };
}

/** The pull request a commit came from: GitHub's merge subject, or a squash's trailing "(#N)". */
export function pullRequest(subject: string): number | undefined {
  const match = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return match ? Number(match[1]) : undefined;
}

function pick(value: Record<string, unknown>): Fields {
  const fields: Fields = {};
  for (const field of FIELDS) if (value[field] !== undefined) fields[field] = value[field];
  return fields;
}

function diff(old: Fields, next: Fields): Record<string, { old?: unknown; new?: unknown }> {
  const changes: Record<string, { old?: unknown; new?: unknown }> = {};
  for (const field of FIELDS) {
    const a = old[field];
    const b = next[field];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes[field] = { ...(a !== undefined ? { old: a } : {}), ...(b !== undefined ? { new: b } : {}) };
  }
  return changes;
}

interface RecordLine {
  run?: string;
  command?: string;
  changes?: {
    action: 'grant' | 'revoke';
    app: string;
    user: string;
    entitlement?: string;
    license?: string;
    reason: string;
    outcome: string;
  }[];
}

/**
 * Attaches apply records to events: a record of (app, user) belongs to the
 * latest event of that pair at or before the commit the run reconciled, an
 * expiry record to the expiry. `order` is each commit's first-parent position.
 */
export function attachRecords(
  events: AuditEvent[],
  records: ReadonlyMap<string, unknown[]>,
  order: ReadonlyMap<string, number>,
): void {
  const byPair = groupBy(events, (e) => `${e.app}\u0000${e.user}`);
  const entries = [...records].sort((a, b) => (order.get(a[0]) ?? -1) - (order.get(b[0]) ?? -1));
  for (const [commit, lines] of entries) {
    const position = order.get(commit);
    if (position === undefined) continue;
    for (const line of lines as RecordLine[]) {
      for (const change of line.changes ?? []) {
        const candidates = (byPair.get(`${change.app}\u0000${change.user}`) ?? []).filter(
          (e) => (order.get(e.commit) ?? Number.POSITIVE_INFINITY) <= position,
        );
        const wanted =
          change.reason === 'expired'
            ? candidates.filter((e) => e.kind === 'expired')
            : candidates.filter((e) => e.kind !== 'expired');
        const target = (wanted.length > 0 ? wanted : candidates).at(-1);
        if (!target) continue;
        const { action, entitlement, license, reason, outcome } = change;
        target.applied ??= [];
        target.applied.push({
          commit,
          run: line.run ?? '',
          command: line.command ?? '',
          action,
          ...(entitlement !== undefined ? { entitlement } : {}),
          ...(license !== undefined ? { license } : {}),
          reason,
          outcome,
        });
      }
    }
  }
}
