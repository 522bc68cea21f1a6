import type { AccessView } from '../audit/as-of.js';
import type { AuditEvent } from '../audit/events.js';

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
export const ACCESS_COLUMNS = ['user', 'app', 'permissions', 'license'] as const;

export function formatEvents(events: AuditEvent[], format: AuditFormat): string {
  if (format === 'json') return `${JSON.stringify({ events }, null, 2)}\n`;
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
  return `${events
    .map((e) => {
      const parts = [
        `${e.date}  ${e.kind.padEnd(8)} ${e.app}/${e.user}  by ${e.author}${e.pr !== undefined ? ` in #${e.pr}` : ''}  ${e.commit.slice(0, 10)}`,
      ];
      const changes = changesText(e);
      if (changes) parts.push(`    ${changes}`);
      if (e.approvers)
        parts.push(`    approved by ${e.approvers.length ? e.approvers.join(', ') : 'nobody'}`);
      if (e.applied) parts.push(`    applied: ${appliedText(e)}`);
      return parts.join('\n');
    })
    .join('\n')}\n`;
}

export function formatAccess(view: AccessView, format: AuditFormat): string {
  if (format === 'json') return `${JSON.stringify({ asOf: view.asOf, access: view.access }, null, 2)}\n`;
  if (format === 'csv') {
    return csv([
      [...ACCESS_COLUMNS],
      ...view.access.map((a) => [a.user, a.app, a.permissions.join(' '), a.license ?? '']),
    ]);
  }
  const head = `access as of ${view.asOf}${view.commit ? ` (commit ${view.commit.slice(0, 10)})` : ' (before the history starts)'}`;
  const rows = view.access.map(
    (a) =>
      `${a.app.padEnd(16)} ${a.user.padEnd(16)} ${[...a.permissions, ...(a.license ? [`license:${a.license}`] : [])].join(', ')}`,
  );
  return `${[head, ...rows].join('\n')}\n`;
}

function changesText(e: AuditEvent): string {
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
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; lines end in CRLF. */
function csv(rows: string[][]): string {
  return (
    rows
      .map((row) =>
        row.map((cell) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(','),
      )
      .join('\r\n') + '\r\n'
  );
}
