import type { Change } from '../model/access.js';
import { humanTime } from '../model/time.js';
import { batched, jsonChunks } from '../util/json-stream.js';
import type { AccessRow } from '../views/access.js';
import type { SeatRow } from '../views/seats.js';
import type { UpcomingEvent } from '../views/upcoming.js';
import { type Hue, type Paint, plain } from './paint.js';

/** Colours of the access table's cells: what is in force, what is not yet, what differs from the app. */
const accessTint: Tint = (column, text) => {
  if (column === 'status')
    return text.includes('EMERGENCY') ? 'red' : text.startsWith('scheduled') ? 'cyan' : 'green';
  if (column === 'observed')
    return text === 'in-sync' ? 'green' : text === 'pending' ? 'yellow' : text === 'missing' ? 'red' : 'dim';
  return undefined;
};

export type ViewFormat = 'text' | 'json' | 'csv' | 'markdown';

/** A CSV cell: quoted, and a leading =, +, - or @ neutralised so a spreadsheet does not run it. */
const csvCell = (value: string) =>
  `"${(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value).replace(/"/g, '""')}"`;
/** A Markdown table cell: pipes, backslashes, HTML and mentions made inert. */
const mdCell = (value: string) =>
  value
    .replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`)
    .replace(/@/g, '@\u200b')
    .replace(/\n/g, ' ');

/** A cell's colour on a terminal, by its column's header and its text. */
type Tint = (column: string, text: string) => Hue | undefined;

/** The table's lines, each ending in a newline; `cells` is asked twice per row for a text table (its widths, then its lines), so no list of every row's cells is kept. */
function* tableLines<R>(
  header: string[],
  rows: Iterable<R>,
  cells: (row: R) => string[],
  format: ViewFormat,
  width: number,
  p: Paint = plain,
  tint: Tint = () => undefined,
): Generator<string> {
  if (format === 'csv') {
    yield `${header.map(csvCell).join(',')}\n`;
    for (const r of rows) yield `${cells(r).map(csvCell).join(',')}\n`;
    return;
  }
  if (format === 'markdown') {
    yield `| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`;
    for (const r of rows) yield `| ${cells(r).map(mdCell).join(' | ')} |\n`;
    return;
  }
  // Text: columns as wide as their widest cell, the last one cut to the terminal.
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    const c = cells(r);
    for (let i = 0; i < widths.length; i++) if (c[i]!.length > widths[i]!) widths[i] = c[i]!.length;
  }
  const line = (cells: string[], head = false) => {
    const padded = cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)));
    const text = padded.join('  ');
    if (text.length > width) return `${text.slice(0, width - 1)}…`;
    if (head) return p('bold', text);
    return padded
      .map((c, i) => {
        const hue = tint(header[i]!, cells[i]!);
        return hue ? p(hue, c) : c;
      })
      .join('  ');
  };
  yield `${line(header, true)}\n`;
  for (const r of rows) yield `${line(cells(r))}\n`;
}

function table(
  header: string[],
  rows: string[][],
  format: ViewFormat,
  width: number,
  p: Paint = plain,
  tint: Tint = () => undefined,
): string {
  return [...tableLines(header, rows, (r) => r, format, width, p, tint)].join('');
}

/**
 * The access view in pieces of about 64 KB: a million rows are written as they are made,
 * never held as one text (JSON exactly as JSON.stringify(view, null, 2) gives it).
 */
export function* formatAccess(
  view: {
    at: string;
    /** Read twice for a text table (its widths, then its lines). */
    access: Iterable<AccessRow>;
    seats: SeatRow[];
    drift?: Change[];
    unmanaged?: { app: string; account: string; entitlement?: string; license?: string; why: string }[];
    skipped?: { app: string; reason: string }[];
  },
  format: ViewFormat,
  zone: string,
  width = 120,
  p: Paint = plain,
): Generator<string> {
  if (format === 'json') return yield* batched(jsonChunks(view));
  yield* batched(accessLines(view, format, zone, width, p), 1 << 16, '');
}

function* accessLines(
  view: Parameters<typeof formatAccess>[0],
  format: ViewFormat,
  zone: string,
  width: number,
  p: Paint,
): Generator<string> {
  const when = (iso: string | undefined) => (iso ? humanTime(Date.parse(iso), zone) : '');
  // Only an observed view (it has drift) can have rows with an observed state.
  let observed = false;
  if (view.drift !== undefined)
    for (const r of view.access) {
      if (r.observed === undefined) continue;
      observed = true;
      break;
    }
  const header = [
    'user',
    'name',
    'app',
    'access',
    'status',
    'start',
    'end',
    ...(observed ? ['observed'] : []),
  ];
  const cells = (r: AccessRow) => [
    r.user,
    r.name,
    r.app,
    [...r.permissions, ...(r.license ? [`(${r.license})`] : [])].join(', '),
    [
      r.status,
      ...(r.privileged ? ['privileged'] : []),
      ...(r.emergency
        ? [`EMERGENCY${r.emergency.approveBy ? ` (approve by ${when(r.emergency.approveBy)})` : ''}`]
        : []),
    ].join(', '),
    when(r.start),
    when(r.end),
    ...(observed ? [r.observed ?? 'not observed'] : []),
  ];
  yield* tableLines(header, view.access, cells, format, width, p, accessTint);
  if (format === 'csv') return;
  if (view.seats.length > 0) {
    yield '\n';
    yield* tableLines(
      ['app', 'tier', 'seats', 'used', 'free', 'next free'],
      view.seats,
      (s) => [s.app, s.tier, String(s.seats), String(s.used), String(s.free), when(s.nextFree)],
      format,
      width,
      p,
      (column, text) => (column === 'free' ? (text === '0' ? 'red' : 'green') : undefined),
    );
  }
  for (const d of view.drift ?? [])
    yield `${p('yellow', 'drift:')} ${d.account} holds ${d.entitlement ?? d.license} in ${d.app}, which no grant gives\n`;
  for (const u of view.unmanaged ?? [])
    yield `${p('cyan', 'unmanaged:')} ${u.account} holds ${u.entitlement ?? u.license} in ${u.app}, left alone by iden (${u.why})\n`;
  for (const s of view.skipped ?? []) yield `${p('yellow', 'not observed:')} ${s.app}: ${s.reason}\n`;
}

/** The upcoming view in pieces, JSON as the access view's. */
export function* formatUpcoming(
  view: { from: string; to: string; events: UpcomingEvent[] },
  format: ViewFormat,
  zone: string,
  width = 120,
  p: Paint = plain,
): Generator<string> {
  if (format === 'json') return yield* batched(jsonChunks(view));
  yield upcomingText(view, format, zone, width, p);
}

function upcomingText(
  view: { from: string; to: string; events: UpcomingEvent[] },
  format: ViewFormat,
  zone: string,
  width: number,
  p: Paint,
): string {
  const rows = view.events.map((e) => [
    humanTime(Date.parse(e.at), zone),
    e.kind,
    e.user,
    e.app,
    [...e.permissions, ...(e.license ? [`(${e.license})`] : [])].join(', '),
  ]);
  if (format !== 'text') return table(['at', 'kind', 'user', 'app', 'access'], rows, format, width);
  if (rows.length === 0)
    return `Nothing starts or ends from ${humanTime(Date.parse(view.from), zone)} to ${humanTime(Date.parse(view.to), zone)}.\n`;
  // Grouped by day, in the settings' time zone.
  const days = new Map<string, string[][]>();
  for (const row of rows) {
    const day = row[0]!.slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), [row[0]!.slice(11) || '00:00', ...row.slice(1)]]);
  }
  return [...days]
    .map(
      ([day, dayRows]) =>
        `${p('bold', day)}\n${table(['time', 'kind', 'user', 'app', 'access'], dayRows, 'text', width, p, (column, text) => (column === 'kind' ? (text === 'start' ? 'green' : 'yellow') : undefined)).replace(/^/gm, '  ')}`,
    )
    .join('\n')
    .replace(/ +$/gm, '');
}
