import { type Instant, isoUtc } from '../model/time.js';
import { compareIds } from '../util/sorted.js';
import type { Fields, ParseVersion, ZoneHistory } from './events.js';
import type { FileChange } from './history.js';
import { pathIdentity } from './history.js';
import type { RunRecord } from './records.js';

/** Whether the records show an intended access was really there. */
export type AppliedState = 'yes' | 'failed' | 'pending' | 'held' | 'unknown';

/** One thing a person was meant to hold at the instant, with the commit that gave it. */
export interface IntendedItem {
  user: string;
  app: string;
  entitlement?: string;
  license?: string;
  /** The grant file. */
  file: string;
  /** Since when, in this unbroken stretch, it was meant to be held (its commit, or its start). */
  since: Instant;
  /** The commit that first gave it in this stretch, and that commit's place on the branch. */
  commit: string;
  position: number;
  applied: AppliedState;
  /** The record that shows it (for yes and failed): when, and what it said. */
  appliedAt?: string;
  error?: string;
  /** The grant's `reason` and its end (an instant), as the version in force says: what a reviewer asks first. */
  reason?: string;
  end?: Instant;
}

/** Access records show was there though no grant in force gave it. */
export interface Unexpected {
  user: string;
  app: string;
  entitlement?: string;
  license?: string;
  /** When the run that granted it ran. */
  since: string;
  /** The commit that run reconciled. */
  commit: string;
  /** early (a run pinned with --at), after-end (not yet removed), commit-not-in-history, no-grant. */
  why: 'early' | 'after-end' | 'commit-not-in-history' | 'no-grant';
  by: string;
}

export interface AccessEntry {
  user: string;
  app: string;
  permissions: string[];
  license?: string;
  /** The least settled state of its items: failed, held, pending, unknown, then yes. */
  applied: AppliedState;
  /** Each item's state: entitlement ids, and `license:<tier>`. */
  items: Record<string, AppliedState>;
}

export interface AccessView {
  asOf: string;
  /** The first-parent commit in force at the instant; absent before the history starts. */
  commit?: string;
  access: AccessEntry[];
  unexpected: Unexpected[];
  /** Every intended item, for the review export. */
  intended: IntendedItem[];
}

export interface AsOfInput {
  commits: readonly { sha: string; position: number; files: FileChange[] }[];
  dates: ReadonlyMap<string, number>;
  /** The versions of grant files, each parsed once per audit. */
  parse: ParseVersion;
  zones: ZoneHistory;
  records: readonly RunRecord[];
  /** False when the clone has no records at all (notes not fetched): nothing can be said of fact. */
  haveRecords: boolean;
  describe: (r: RunRecord) => string;
  at: Instant;
  app?: string | undefined;
}

const key = (app: string, user: string, item: string) => `${app}\u0000${user}\u0000${item}`;
const itemOf = (a: { entitlement?: string | undefined; license?: string | undefined }) =>
  a.entitlement !== undefined ? a.entitlement : `license:${a.license}`;

/**
 * Who was meant to have access at an instant, from the history (the grant
 * files in force on the branch then, with their windows read in the zone of
 * the time), and beside it what the apply records show was done: each
 * intended item's state, and access the records show held without a grant.
 */
export function accessAsOf(input: AsOfInput): AccessView {
  const { at, zones } = input;
  const files = new Map<
    string,
    {
      fields: Fields;
      date: Instant;
      since: Map<string, { since: Instant; commit: string; position: number }>;
    }
  >();
  let inForce: string | undefined;
  const window = (fields: Fields, written: Instant) => {
    const start = typeof fields.start === 'string' ? zones.instant(fields.start, written) : undefined;
    const end = typeof fields.end === 'string' ? zones.instant(fields.end, written) : undefined;
    return {
      start,
      end,
      bad:
        (fields.start !== undefined && start === undefined) ||
        (fields.end !== undefined && end === undefined),
    };
  };
  for (const commit of input.commits) {
    const date = input.dates.get(commit.sha)!;
    if (date > at) break;
    inForce = commit.sha;
    for (const file of commit.files) {
      if (input.app !== undefined && pathIdentity(file.path).app !== input.app) continue;
      const before = files.get(file.path);
      if (file.status === 'D') {
        files.delete(file.path);
        continue;
      }
      const fields = input.parse(file.newBlob) ?? {};
      const items = itemsOf(fields);
      const since = new Map<string, { since: Instant; commit: string; position: number }>();
      // An item goes on from the version before only while that version was still in force.
      const stillOn =
        before &&
        (() => {
          const w = window(before.fields, before.date);
          return w.end === undefined || w.end > date;
        })();
      for (const item of items) {
        const kept = stillOn ? before!.since.get(item) : undefined;
        since.set(item, kept ?? { since: date, commit: commit.sha, position: commit.position });
      }
      files.set(file.path, { fields, date, since });
    }
  }

  const intended: IntendedItem[] = [];
  const wanted = new Set<string>();
  const notYet = new Set<string>();
  const ended = new Set<string>();
  for (const [path, version] of files) {
    const { app, user } = pathIdentity(path);
    const w = window(version.fields, version.date);
    if (w.bad) continue;
    for (const [item, from] of version.since) {
      const k = key(app, user, item);
      if (w.start !== undefined && at < w.start) {
        notYet.add(k);
        continue;
      }
      if (w.end !== undefined && at >= w.end) {
        ended.add(k);
        continue;
      }
      wanted.add(k);
      const since = Math.max(from.since, w.start ?? Number.NEGATIVE_INFINITY);
      const target = item.startsWith('license:') ? { license: item.slice(8) } : { entitlement: item };
      intended.push({
        user,
        app,
        ...target,
        file: path,
        since,
        commit: from.commit,
        position: from.position,
        ...fact(input, app, user, item, since, from.position),
        ...(typeof version.fields.reason === 'string' ? { reason: version.fields.reason } : {}),
        ...(w.end !== undefined ? { end: w.end } : {}),
      });
    }
  }

  const unexpected = unexpectedAccess(input, wanted, notYet, ended);
  const access = new Map<string, AccessEntry>();
  for (const i of intended) {
    const k = `${i.app}\u0000${i.user}`;
    const entry = access.get(k) ?? {
      user: i.user,
      app: i.app,
      permissions: [],
      applied: 'yes' as AppliedState,
      items: {},
    };
    if (i.entitlement !== undefined) entry.permissions.push(i.entitlement);
    else entry.license = i.license!;
    entry.items[itemOf(i)] = i.applied;
    entry.applied = worst(entry.applied, i.applied);
    access.set(k, entry);
  }
  const order = (a: { app: string; user: string }, b: { app: string; user: string }) =>
    compareIds(a.app, b.app) || compareIds(a.user, b.user);
  return {
    asOf: isoUtc(at),
    ...(inForce ? { commit: inForce } : {}),
    access: [...access.values()].sort(order),
    unexpected: unexpected.sort(order),
    intended: intended.sort(order),
  };
}

const RANK: AppliedState[] = ['failed', 'held', 'pending', 'unknown', 'yes'];
function worst(a: AppliedState, b: AppliedState): AppliedState {
  return RANK.indexOf(a) <= RANK.indexOf(b) ? a : b;
}

/** What the records say of one intended item, meant since `since` by the commit at `position`. */
function fact(
  input: AsOfInput,
  app: string,
  user: string,
  item: string,
  since: Instant,
  position: number,
): Pick<IntendedItem, 'applied' | 'appliedAt' | 'error'> {
  if (!input.haveRecords) return { applied: 'unknown' };
  const mine = (c: { app: string; user: string; entitlement?: string; license?: string }) =>
    c.app === app && c.user === user && itemOf(c) === item;
  const upTo = input.records.filter((r) => r.run <= input.at);
  const after = upTo.filter((r) => r.run >= since);
  // 1. A run since it was meant changed it: what the last such change did.
  for (const r of [...after].reverse()) {
    const change = r.changes.filter(mine).at(-1);
    if (!change) continue;
    if (change.action === 'grant')
      return change.outcome === 'failed'
        ? { applied: 'failed', appliedAt: isoUtc(r.run), ...(change.error ? { error: change.error } : {}) }
        : { applied: 'yes', appliedAt: isoUtc(r.run) };
    return { applied: 'unknown' };
  }
  // 2. The latest run since then that reconciled this grant's commit: held back, skipped, or in sync.
  const latest = after
    .filter((r) => r.position !== undefined && r.position >= position && r.at >= since)
    .at(-1);
  if (latest) {
    if (latest.held.some((h) => h.app === app && h.user === user)) return { applied: 'held' };
    if (latest.skipped.some((s) => s.app === app)) return { applied: 'unknown' };
    return { applied: 'yes' };
  }
  // 3. Granted before, and not removed since.
  for (const r of [...upTo].reverse()) {
    const change = r.changes.filter(mine).at(-1);
    if (!change) continue;
    if (change.action === 'grant' && change.outcome !== 'failed')
      return { applied: 'yes', appliedAt: isoUtc(r.run) };
    break;
  }
  return { applied: 'pending' };
}

function unexpectedAccess(
  input: AsOfInput,
  wanted: Set<string>,
  notYet: Set<string>,
  ended: Set<string>,
): Unexpected[] {
  const held = new Map<string, { record: RunRecord; change: RunRecord['changes'][number] }>();
  for (const record of input.records) {
    if (record.run > input.at) break;
    for (const change of record.changes) {
      if (input.app !== undefined && change.app !== input.app) continue;
      const k = key(change.app, change.user, itemOf(change));
      if (change.action === 'grant' && change.outcome !== 'failed') held.set(k, { record, change });
      if (change.action === 'revoke' && change.outcome !== 'failed') held.delete(k);
    }
  }
  const out: Unexpected[] = [];
  for (const [k, { record, change }] of held) {
    if (wanted.has(k)) continue;
    const why: Unexpected['why'] =
      record.position === undefined
        ? 'commit-not-in-history'
        : notYet.has(k)
          ? 'early'
          : ended.has(k)
            ? 'after-end'
            : 'no-grant';
    out.push({
      user: change.user,
      app: change.app,
      ...(change.entitlement !== undefined
        ? { entitlement: change.entitlement }
        : { license: change.license! }),
      since: isoUtc(record.run),
      commit: record.commit,
      why,
      by: input.describe(record),
    });
  }
  return out;
}

function itemsOf(fields: Fields): string[] {
  const items = Array.isArray(fields.permissions)
    ? fields.permissions.filter((p): p is string => typeof p === 'string')
    : [];
  if (typeof fields.license === 'string') items.push(`license:${fields.license}`);
  return [...new Set(items)];
}
