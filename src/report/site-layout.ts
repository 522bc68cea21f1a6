// The report's page frame and its parts: layout, style, tables (the seat
// chart is site-chart.ts). Everything people wrote is escaped. Tables become
// one card per row on a narrow screen, each cell saying its column, so no
// page scrolls sideways down to 320 px.
import { humanTime, type Instant } from '../model/time.js';
import type { AccessRow } from '../views/access.js';
import type { SeatRow } from '../views/seats.js';

/** Text for HTML: every character that could end text or an attribute, escaped. */
export const html = (text: string): string => text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A file name for an id: ids are already safe, but a page name never trusts that. */
export const page = (id: string) => `${encodeURIComponent(id).replace(/%/g, '_')}.html`;

/** Every kind of table the report writes, with its columns. */
export const TABLES = {
  'access-person': ['Person', 'Access', 'Status', 'Start', 'End', 'Reason'],
  'access-app': ['App', 'Access', 'Status', 'Start', 'End', 'Reason'],
  seats: ['App', 'Tier', 'Seats', 'Used', 'Free', 'Next free'],
  apps: ['App', 'Access', 'Last review', 'Next review'],
  'apps-observed': ['App', 'Access', 'Last review', 'Next review', 'Without a grant'],
  soon: ['When', 'What', 'Person', 'App', 'Access'],
  grantable: ['Access', 'Kind', 'What it gives', 'Rules', 'Held by'],
  loose: ['Account', 'Person', 'Access', 'Why'],
  'loose-person': ['App', 'Account', 'Access', 'Why'],
  found: ['Kind', 'Name', 'About'],
} as const;
export type TableKind = keyof typeof TABLES;

/**
 * The style that makes each table's rows cards on a narrow screen, each cell
 * saying its column first: from the style sheet, by column, so no cell of a
 * million-row report carries its column's name.
 */
const cardLabels = Object.entries(TABLES)
  .flatMap(([kind, columns]) =>
    columns.map(
      (c, i) => `  table.t-${kind} td:nth-child(${i + 1})::before { content: ${JSON.stringify(`${c}: `)}; }`,
    ),
  )
  .join('\n');

export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --limit: #b35900; --full: rgba(179, 89, 0, 0.16); }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d; --accent: #58a6ff; --limit: #f0883e; --full: rgba(240, 136, 62, 0.22); } }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 1rem; max-width: 72rem; }
a { color: var(--accent); }
h1, h2, h3, p, td, th, li, figcaption, code, small { overflow-wrap: break-word; }
header p, footer { color: var(--muted); font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
.wrap { overflow-x: auto; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
label { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
input[type=search] { font: inherit; width: 100%; max-width: 30rem; padding: 0.4rem; border: 1px solid var(--muted); border-radius: 4px; background: var(--bg); color: var(--fg); }
.flag { font-weight: 600; color: var(--limit); }
.when { white-space: nowrap; }
.note { color: var(--muted); }
.chart h3 { font-size: 1.05rem; margin: 1.25rem 0 0.25rem; }
figure { margin: 0 0 1.5rem; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.plot { display: flex; width: 100%; }
.plot svg.y-axis { flex: none; }
.plot svg.area { flex: 1 1 auto; min-width: 0; width: 100%; overflow: visible; }
.plot svg.inner { overflow: visible; }
svg text { fill: var(--fg); font-size: 12px; font-family: system-ui, sans-serif; }
svg .axis { stroke: var(--muted); }
svg .grid { stroke: var(--line); vector-effect: non-scaling-stroke; }
svg .used { fill: none; stroke: var(--accent); stroke-width: 3; }
svg .limit { stroke: var(--limit); stroke-width: 2; stroke-dasharray: 6 4; }
svg .full { fill: var(--full); }
svg .full-label { fill: var(--limit); font-weight: 700; }
@media (max-width: 40rem) {
  body { padding: 0.75rem; }
  .wrap { overflow-x: visible; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards tr { border-bottom: 1px solid var(--line); padding: 0.4rem 0; }
  table.cards td { border: 0; padding: 0.1rem 0; }
  table.cards td::before { font-weight: 600; }
  table.cards td:empty { display: none; }
${cardLabels}
}
`;

export function layout(
  title: string,
  body: string,
  meta: { commit: string | undefined; at: Instant; zone: string; observed?: string | undefined },
  depth: number,
  script = '',
): string {
  const up = depth > 0 ? '../'.repeat(depth) : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'self'; script-src 'self' 'unsafe-inline'; img-src data:">
<title>${html(title)} · access report</title>
<link rel="stylesheet" href="${up}style.css">
</head>
<body>
<header>
<nav><a href="${up}index.html">Overview</a></nav>
<h1>${html(title)}</h1>
<p>Generated from commit <code>${html(meta.commit ?? 'none (not a git repository)')}</code> at ${html(shownTime(meta.at, meta.zone))} (${html(meta.zone)}).</p>
</header>
<main>
${body}
</main>
<footer><p>Made by iden report. ${meta.observed ? `What the repository says, and what the apps held when observed at ${html(shownTime(Date.parse(meta.observed), meta.zone))}.` : 'What the repository says; iden report --observed also lists what the apps hold that no grant gives.'}</p></footer>
${script ? `<script>${script}</script>` : ''}
</body>
</html>
`;
}

export const access = (r: AccessRow) =>
  html([...r.permissions, ...(r.license ? [`${r.license} (tier)`] : [])].join(', '));

/**
 * An instant as people read it, to the second: a bare date at midnight, else
 * the date-time in the zone with its offset, never milliseconds (an end
 * written to the millisecond shows the second it falls in).
 */
export const shownTime = (at: Instant, zone: string): string => humanTime(Math.floor(at / 1000) * 1000, zone);

/** Instants as people read them; a million rows share a few thousand dates, so each is formatted once. */
const shown = new Map<string, string>();
export const when = (iso: string | undefined, zone: string): string => {
  if (!iso) return '';
  const key = `${zone}\u0000${iso}`;
  let text = shown.get(key);
  if (text === undefined) {
    if (shown.size > 100_000) shown.clear();
    text = `<span class="when">${html(shownTime(Date.parse(iso), zone))}</span>`;
    shown.set(key, text);
  }
  return text;
};

/** A table of a kind (its columns and card labels from TABLES); cells are HTML, already escaped. */
export function table(kind: TableKind, rows: Iterable<string[]>, caption?: string): string {
  const body: string[] = [];
  for (const cells of rows) body.push(`<tr><td>${cells.join('</td><td>')}</td></tr>`);
  return `<div class="wrap"><table class="cards t-${kind}">
${caption ? `<caption class="visually-hidden">${html(caption)}</caption>\n` : ''}<thead><tr>${TABLES[kind].map((c) => `<th scope="col">${html(c)}</th>`).join('')}</tr></thead>
<tbody>
${body.join('\n')}
</tbody></table></div>`;
}

/** The status cell: privileged and emergency access stand apart, as auditors read them. */
const status = (r: AccessRow, zone: string) =>
  [
    r.status,
    ...(r.privileged ? ['<strong class="flag">privileged</strong>'] : []),
    ...(r.emergency
      ? [
          `<strong class="flag">emergency</strong>${r.emergency.approveBy ? ` (approve by ${when(r.emergency.approveBy, zone)})` : ''}`,
        ]
      : []),
  ].join(', ');

/** Why each grant file gives its access: its `reason`, when it has one. */
export type Reasons = (file: string) => string | undefined;

export function accessTable(
  rows: AccessRow[],
  zone: string,
  depth: number,
  caption: string,
  link: 'user' | 'app',
  reasons: Reasons,
): string {
  if (rows.length === 0) return `<p>${html(caption)}: none.</p>`;
  const up = '../'.repeat(depth);
  return table(
    link === 'user' ? 'access-person' : 'access-app',
    rows.map((r) => [
      link === 'user'
        ? `<a href="${up}people/${page(r.user)}">${html(r.name)}</a> <small>${html(r.user)}</small>`
        : `<a href="${up}apps/${page(r.app)}">${html(r.app)}</a>`,
      access(r),
      status(r, zone),
      when(r.start, zone),
      when(r.end, zone),
      html(reasons(r.file) ?? ''),
    ]),
    caption,
  );
}

export function seatTable(seats: SeatRow[], zone: string): string {
  if (seats.length === 0) return '';
  return table(
    'seats',
    seats.map((s) => [
      html(s.app),
      `${html(s.tier)}${s.free <= 0 ? ' <strong class="flag">full</strong>' : ''}`,
      String(s.seats),
      String(s.used),
      String(s.free),
      when(s.nextFree, zone),
    ]),
  );
}
