import type { AccessView } from '../audit/as-of.js';
import type { AuditSource } from '../audit/audit.js';
import type { AuditEvent } from '../audit/events.js';
import type { Warning } from '../audit/records.js';
import type { ReviewRow } from '../audit/review.js';
import { type Hue, type Paint, plain } from './paint.js';

export type AuditFormat = 'text' | 'json' | 'csv';

/** The CSV columns, in order: a stable contract documented in the README. */
export const EVENT_COLUMNS = [
  'commit',
  'date',
  'author',
  'user',
  'app',
  'kind',
  'pr',
  'changes',
  'approvers',
  'applied',
] as const;
export const ACCESS_COLUMNS = ['user', 'app', 'permissions', 'license', 'applied'] as const;
export const REVIEW_COLUMNS = [
  'user',
  'name',
  'app',
  'access',
  'grant_file',
  'since',
  'requested_by',
  'approved_by',
  'approved_at',
  'pr',
  'pr_url',
  'commit',
  'applied_at',
  'applied',
  'flags',
  // Added after the first release: appended, so a reader by position keeps working.
  'reason',
  'end',
  'rules',
  'last_review',
] as const;

/** The access rules a row was approved under: `rule: counted/needed (who)`, joined by `; `. */
function rulesCell(r: ReviewRow): string {
  return (r.rules ?? [])
    .map(
      (x) =>
        `${x.rule}: ${x.counted.length}/${x.needed}${x.counted.length > 0 ? ` (${x.counted.join(' ')})` : ''}`,
    )
    .join('; ');
}

/** An event as the JSON contract orders it; internal fields left out. */
function eventJson(e: AuditEvent): Record<string, unknown> {
  return {
    commit: e.commit,
    date: e.date,
    author: e.author,
    user: e.user,
    app: e.app,
    kind: e.kind,
    ...(e.pr !== undefined ? { pr: e.pr, prSource: e.prSource } : {}),
    ...(e.requestedBy !== undefined ? { requestedBy: e.requestedBy } : {}),
    ...(e.approvers !== undefined ? { approvers: e.approvers } : {}),
    ...(e.approval !== undefined ? { approval: e.approval } : {}),
    ...(e.changes !== undefined ? { changes: e.changes } : {}),
    ...(e.applied !== undefined ? { applied: e.applied } : {}),
    ...(e.review !== undefined ? { review: e.review } : {}),
  };
}

export function formatEvents(
  events: AuditEvent[],
  source: AuditSource,
  warnings: Warning[],
  format: AuditFormat,
  p: Paint = plain,
): string {
  if (format === 'json')
    return `${JSON.stringify({ source, warnings, events: events.map(eventJson) }, null, 2)}\n`;
  if (format === 'csv') {
    const rows = events.map((e) => [
      e.commit,
      e.date,
      e.author,
      e.user,
      e.app,
      e.kind,
      e.pr === undefined ? '' : String(e.pr),
      changesText(e),
      (e.approvers ?? []).join(' '),
      appliedText(e),
    ]);
    return csv([[...EVENT_COLUMNS], ...rows]);
  }
  if (events.length === 0) return 'no events\n';
  // Each field made safe on its own, then coloured: the colours are iden's, never a field's.
  const s = (text: string, hue?: Hue) => (hue ? p(hue, safe(text)) : safe(text));
  return `${events
    .map((e) => {
      const by = e.author ? `by ${e.author}` : 'by no run yet';
      const pr =
        e.pr !== undefined ? ` in #${e.pr}${e.prSource === 'subject' ? ' (from the subject)' : ''}` : '';
      const parts = [
        `${s(e.date)}  ${s(e.kind.padEnd(8), KIND_HUE[e.kind])} ${s(`${e.app}/${e.user}`, 'bold')}  ${s(`${by}${pr}`)}  ${s(e.commit.slice(0, 10), 'dim')}`,
      ];
      const changes = changesText(e);
      if (changes) parts.push(`    ${s(changes)}`);
      if (e.approval) {
        const who = e.approvers?.length ? `approved by ${e.approvers.join(', ')}` : 'no approval counted';
        parts.push(
          `    ${e.approval.ok ? s('policy met', 'green') : s('POLICY NOT MET', 'red')}: ${s(`${e.approval.reason} (${who})`)}`,
        );
      }
      if (e.applied) parts.push(`    applied: ${s(appliedText(e))}`);
      return parts.join('\n');
    })
    .join('\n')}\n`;
}

export function formatAccess(
  view: AccessView,
  source: AuditSource,
  warnings: Warning[],
  format: AuditFormat,
): string {
  if (format === 'json')
    return `${JSON.stringify(
      {
        asOf: view.asOf,
        ...(view.commit ? { commit: view.commit } : {}),
        source,
        warnings,
        access: view.access,
        unexpected: view.unexpected,
      },
      null,
      2,
    )}\n`;
  if (format === 'csv') {
    return csv([
      [...ACCESS_COLUMNS],
      ...view.access.map((a) => [a.user, a.app, a.permissions.join(' '), a.license ?? '', a.applied]),
    ]);
  }
  const head = `access as of ${view.asOf}${view.commit ? ` (commit ${view.commit.slice(0, 10)})` : ' (before the history starts)'}`;
  const rows = view.access.map((a) => {
    const items = Object.entries(a.items)
      .map(([item, state]) => (state === 'yes' ? item : `${item} (${state})`))
      .join(', ');
    return `${a.app.padEnd(16)} ${a.user.padEnd(16)} ${items}`;
  });
  const unexpected = view.unexpected.map(
    (u) =>
      `unexpected: ${u.app}/${u.user} ${u.entitlement ?? `license:${u.license}`} held since ${u.since} (${u.why}, granted by ${u.by})`,
  );
  return `${[head, ...rows, ...unexpected].map(safe).join('\n')}\n`;
}

export function formatReview(
  asOf: string,
  rows: ReviewRow[],
  source: AuditSource,
  warnings: Warning[],
  format: AuditFormat,
): string {
  if (format === 'json') return `${JSON.stringify({ asOf, source, warnings, rows }, null, 2)}\n`;
  const cells = rows.map((r) => [
    r.user,
    r.name,
    r.app,
    r.access,
    r.grantFile,
    r.since,
    r.requestedBy,
    r.approvedBy.join(' '),
    r.approvedAt ?? '',
    r.pr === undefined ? '' : String(r.pr),
    r.prUrl ?? '',
    r.commit,
    r.appliedAt ?? '',
    r.applied,
    r.flags.join(' '),
    r.reason ?? '',
    r.end ?? '',
    rulesCell(r),
    r.lastReview ? `${r.lastReview.campaign} ${r.lastReview.at}` : '',
  ]);
  if (format === 'csv') return csv([[...REVIEW_COLUMNS], ...cells]);
  if (rows.length === 0) return `access review as of ${asOf}: no access\n`;
  const lines = rows.map((r) => {
    const approved = r.approvedBy.length ? `approved by ${r.approvedBy.join(', ')}` : 'no approval';
    const pr = r.pr !== undefined ? `#${r.pr}` : r.commit.slice(0, 10);
    const until = r.end ? `until ${r.end}` : 'no end';
    const why = r.reason ? `, reason: ${r.reason}` : '';
    const rules = r.rules?.length ? `, under ${rulesCell(r)}` : '';
    const kept = r.lastReview
      ? `, kept in review ${r.lastReview.campaign} (${r.lastReview.at.slice(0, 10)})`
      : '';
    return `${r.app}/${r.user} ${r.access}  ${until}${why}; requested by ${r.requestedBy || '?'}, ${approved}${rules}, ${pr}, applied ${r.applied}${kept}${r.flags.length ? `  [${r.flags.join(', ')}]` : ''}`;
  });
  return `${[`access review as of ${asOf}`, ...lines].map(safe).join('\n')}\n`;
}

/** Warnings, one a line, for standard error. */
export function formatWarnings(warnings: Warning[], p: Paint = plain): string {
  return warnings.map((w) => `${p('yellow', 'warning:')} ${safe(w.message)}\n`).join('');
}

const KIND_HUE: Partial<Record<AuditEvent['kind'], Hue>> = {
  granted: 'green',
  changed: 'cyan',
  revoked: 'yellow',
  expired: 'yellow',
  'drift-removed': 'yellow',
  retired: 'yellow',
  'apply-failed': 'red',
  'applied-unmatched': 'red',
};

function changesText(e: AuditEvent): string {
  if (e.review)
    return `review ${e.review.campaign}: ${e.review.decision}${e.review.reason || e.review.note ? ` (${e.review.reason || e.review.note})` : ''}`;
  return Object.entries(e.changes ?? {})
    .map(([field, { old, new: next }]) => `${field}: ${show(old)} -> ${show(next)}`)
    .join('; ');
}

function appliedText(e: AuditEvent): string {
  return (e.applied ?? [])
    .map((a) => `${a.action} ${a.entitlement ?? `license:${a.license}`} ${a.outcome} ${a.run}`)
    .join('; ');
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  if (Array.isArray(value))
    return `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}]`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A field made safe for a terminal and for a line-per-event reader: control
 * characters (newlines and escape sequences included), and the Unicode
 * separators and direction overrides that can disguise text, are written as
 * \u escapes, so a field can never start a line of its own or look like one.
 */
export function safe(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is escaped
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g,
    (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}

/**
 * RFC 4180: fields with a comma, quote or line break are quoted, quotes
 * doubled; lines end in CRLF. A field that a spreadsheet would run as a
 * formula (starting with =, +, -, @, a tab or a carriage return) is prefixed
 * with a single quote, as OWASP advises for CSV injection.
 */
export function csv(rows: string[][]): string {
  const cell = (text: string) => {
    const neutral = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
  };
  return `${rows.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`;
}
