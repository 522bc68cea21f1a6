import type { AccessView, AppliedState, Unexpected } from './as-of.js';
import type { AuditEvent } from './events.js';

/** An exception an access reviewer should look at. */
export type ReviewFlag =
  | 'no-pull-request'
  | 'no-eligible-approval'
  | 'self-merge'
  | 'approval-unknown'
  | 'applied-late'
  | 'failed'
  | 'held'
  | 'pending'
  | 'drift'
  | 'privileged'
  | 'emergency-unapproved';

/** One person's one entitlement (or tier) in force at the instant: a row of a user-access review. */
export interface ReviewRow {
  user: string;
  /** The person's name from _people.yaml, when known. */
  name: string;
  app: string;
  /** The entitlement id, or `license:<tier>`. */
  access: string;
  grantFile: string;
  /** Since when it has been in force (its commit, or its start). */
  since: string;
  /** The commit that gave it (a pull request's merge commit). */
  commit: string;
  pr?: number;
  prUrl?: string;
  prSource?: 'github' | 'subject';
  /** Who asked: the pull request's author, as a person id where _people.yaml knows the login; else the commit's author. */
  requestedBy: string;
  /** Whose approvals counted, as person ids where known. */
  approvedBy: string[];
  approvedAt?: string;
  /** When a run first applied it, and the state the records show. */
  appliedAt?: string;
  applied: AppliedState;
  flags: ReviewFlag[];
  /** The grant's reason, and when it ends (UTC), where the grant says. */
  reason?: string;
  end?: string;
  /** The access rules it was approved under, and whose approvals counted for each. */
  rules?: { rule: string; needed: number; counted: string[] }[];
  /** The last access-review campaign that confirmed (kept) this grant, and when it closed. */
  lastReview?: { campaign: string; at: string };
}

/**
 * The events the review's rows are made from: each intended item's own, a
 * later change to emergency: true on its file (approval after the fact
 * decides whether emergency access is still unapproved), drift removed and
 * campaigns' decisions.
 */
export function rowEvents(view: AccessView): (e: AuditEvent) => boolean {
  const keys = new Set(view.intended.map((i) => `${i.commit}\u0000${i.file}`));
  const files = new Set(view.intended.map((i) => i.file));
  return (e) =>
    keys.has(`${e.commit}\u0000${e.file}`) ||
    (e.changes?.emergency !== undefined && files.has(e.file ?? '')) ||
    e.kind === 'drift-removed' ||
    e.kind === 'reviewed';
}

/** A run that applies more than an hour after access was due is late (reconcile runs every 15 minutes). */
export const LATE_MS = 60 * 60 * 1000;

/**
 * The access review: every intended item at the instant, with who requested
 * and who approved it (logins mapped to people), when it was applied, and
 * the exceptions a reviewer must see. Events must carry approvals (with a
 * token) for the approval columns; without, each row says approval-unknown.
 */
export function reviewRows(
  view: AccessView,
  events: readonly AuditEvent[],
  people: { loginToPerson: Map<string, string>; names: Map<string, string> },
): ReviewRow[] {
  const person = (login: string) => people.loginToPerson.get(login.toLowerCase()) ?? login;
  const byCommitFile = new Map(
    events
      .filter((e) => e.kind === 'granted' || e.kind === 'changed')
      .map((e) => [`${e.commit}\u0000${e.file}`, e] as const),
  );
  const drift = new Set<string>([
    ...events
      .filter((e) => e.kind === 'drift-removed' && Date.parse(e.date) <= Date.parse(view.asOf))
      .map(pair),
    ...view.unexpected.map((u: Unexpected) => pair(u)),
  ]);
  // Emergency access stays unapproved until an approved change to its file replaces it (approval after the fact).
  const unapproved = new Set<string>();
  for (const e of events) {
    if (!e.file || Date.parse(e.date) > Date.parse(view.asOf)) continue;
    if (e.kind === 'revoked' || e.kind === 'expired') unapproved.delete(e.file);
    else if ((e.kind === 'granted' || e.kind === 'changed') && e.approval) {
      if (e.approval.emergency) unapproved.add(e.file);
      else if (e.approval.ok) unapproved.delete(e.file);
    }
  }
  const kept = new Map<string, { campaign: string; at: string }>();
  for (const e of events)
    if (
      e.kind === 'reviewed' &&
      e.review?.decision === 'kept' &&
      e.file &&
      Date.parse(e.date) <= Date.parse(view.asOf)
    )
      kept.set(e.file, { campaign: e.review.campaign, at: e.date });
  return view.intended.map((item) => {
    const event = byCommitFile.get(`${item.commit}\u0000${item.file}`);
    const flags: ReviewFlag[] = [];
    const approval = event?.approval;
    if (!approval) flags.push('approval-unknown');
    else if (approval.classification === 'no-pull-request') flags.push('no-pull-request');
    else if (!approval.ok) flags.push('no-eligible-approval');
    if (
      approval?.mergedBy &&
      event?.requestedBy &&
      approval.mergedBy.toLowerCase() === event.requestedBy.toLowerCase() &&
      approval.classification !== 'direct-grant'
    )
      flags.push('self-merge');
    if (item.appliedAt && Date.parse(item.appliedAt) - item.since > LATE_MS) flags.push('applied-late');
    if (item.applied === 'failed' || item.applied === 'held' || item.applied === 'pending')
      flags.push(item.applied);
    if (drift.has(pair(item))) flags.push('drift');
    if (approval?.privileged) flags.push('privileged');
    // Its content came in as emergency access and no approved change has replaced it since.
    if (approval?.emergency && unapproved.has(item.file)) flags.push('emergency-unapproved');
    return {
      user: item.user,
      name: people.names.get(item.user) ?? '',
      app: item.app,
      access: item.entitlement ?? `license:${item.license}`,
      grantFile: item.file,
      since: new Date(item.since).toISOString(),
      commit: item.commit,
      ...(event?.pr !== undefined ? { pr: event.pr } : {}),
      ...(event?.prUrl ? { prUrl: event.prUrl } : {}),
      ...(event?.prSource ? { prSource: event.prSource } : {}),
      requestedBy: event?.requestedBy ? person(event.requestedBy) : (event?.author ?? ''),
      approvedBy: (event?.approvers ?? []).map(person),
      ...(approval?.approvedAt ? { approvedAt: approval.approvedAt } : {}),
      ...(item.appliedAt ? { appliedAt: item.appliedAt } : {}),
      applied: item.applied,
      flags,
      ...(item.reason !== undefined ? { reason: item.reason } : {}),
      ...(item.end !== undefined ? { end: new Date(item.end).toISOString() } : {}),
      ...(approval?.rules ? { rules: approval.rules } : {}),
      ...(kept.has(item.file) ? { lastReview: kept.get(item.file)! } : {}),
    };
  });
}

function pair(x: { app: string; user: string }): string {
  return `${x.app}\u0000${x.user}`;
}
