// The report's page frame and its parts: layout, tables, the seat chart.
// Everything people wrote is escaped; charts are SVG made here with d3-scale
// and d3-shape.
import { scaleLinear, scaleTime } from 'd3-scale';
import { curveStepAfter, line } from 'd3-shape';
import { humanTime, type Instant, isoUtc } from '../model/time.js';
import type { AccessRow } from '../views/access.js';
import type { SeatRow } from '../views/seats.js';

/** Text for HTML: every character that could end text or an attribute, escaped. */
export const html = (text: string): string => text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A file name for an id: ids are already safe, but a page name never trusts that. */
export const page = (id: string) => `${encodeURIComponent(id).replace(/%/g, '_')}.html`;

export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d; --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 1rem; max-width: 72rem; }
a { color: var(--accent); }
header p, footer { color: var(--muted); font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
.wrap { overflow-x: auto; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
label { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
input[type=search] { font: inherit; width: 100%; max-width: 30rem; padding: 0.4rem; border: 1px solid var(--muted); border-radius: 4px; background: var(--bg); color: var(--fg); }
svg text { fill: var(--fg); font-size: 12px; }
svg .axis { stroke: var(--muted); }
svg .used { fill: none; stroke: var(--accent); stroke-width: 2; }
svg .limit { stroke: #b35900; stroke-dasharray: 4 3; }
`;

export function layout(
  title: string,
  body: string,
  meta: { commit: string | undefined; at: Instant; zone: string },
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
<p>Generated from commit <code>${html(meta.commit ?? 'none (not a git repository)')}</code> at ${html(humanTime(meta.at, meta.zone))} (${html(meta.zone)}).</p>
</header>
<main>
${body}
</main>
<footer><p>Made by iden report. What the repository says; run iden access --observed for what the apps hold.</p></footer>
${script ? `<script>${script}</script>` : ''}
</body>
</html>
`;
}

export const access = (r: AccessRow) =>
  html([...r.permissions, ...(r.license ? [`${r.license} (tier)`] : [])].join(', '));
/** Instants as people read them; a million rows share a few thousand dates, so each is formatted once. */
const shown = new Map<string, string>();
export const when = (iso: string | undefined, zone: string): string => {
  if (!iso) return '';
  const key = `${zone}\u0000${iso}`;
  let text = shown.get(key);
  if (text === undefined) {
    if (shown.size > 100_000) shown.clear();
    text = html(humanTime(Date.parse(iso), zone));
    shown.set(key, text);
  }
  return text;
};

/** The status cell: privileged and emergency access stand apart, as auditors read them. */
const status = (r: AccessRow, zone: string) =>
  [
    r.status,
    ...(r.privileged ? ['<strong>privileged</strong>'] : []),
    ...(r.emergency
      ? [
          `<strong>emergency</strong>${r.emergency.approveBy ? ` (approve by ${when(r.emergency.approveBy, zone)})` : ''}`,
        ]
      : []),
  ].join(', ');

export function accessTable(
  rows: AccessRow[],
  zone: string,
  depth: number,
  caption: string,
  link: 'user' | 'app',
): string {
  if (rows.length === 0) return `<p>${html(caption)}: none.</p>`;
  const up = '../'.repeat(depth);
  return `<div class="wrap"><table>
<caption class="visually-hidden">${html(caption)}</caption>
<thead><tr><th scope="col">${link === 'user' ? 'Person' : 'App'}</th><th scope="col">Access</th><th scope="col">Status</th><th scope="col">Start</th><th scope="col">End</th></tr></thead>
<tbody>
${rows
  .map(
    (r) =>
      `<tr><td>${link === 'user' ? `<a href="${up}people/${page(r.user)}">${html(r.name)}</a> <small>${html(r.user)}</small>` : `<a href="${up}apps/${page(r.app)}">${html(r.app)}</a>`}</td><td>${access(r)}</td><td>${status(r, zone)}</td><td>${when(r.start, zone)}</td><td>${when(r.end, zone)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`;
}

export function seatTable(seats: SeatRow[], zone: string): string {
  if (seats.length === 0) return '';
  return `<div class="wrap"><table>
<thead><tr><th scope="col">App</th><th scope="col">Tier</th><th scope="col">Seats</th><th scope="col">Used</th><th scope="col">Free</th><th scope="col">Next free</th></tr></thead>
<tbody>
${seats.map((s) => `<tr><td>${html(s.app)}</td><td>${html(s.tier)}</td><td>${s.seats}</td><td>${s.used}</td><td>${s.free}</td><td>${when(s.nextFree, zone)}</td></tr>`).join('\n')}
</tbody></table></div>`;
}

/** Seats used of a tier over the next 90 days, as a step chart with the limit drawn across. */
export function seatChart(
  steps: { at: Instant; used: number }[],
  seats: number,
  from: Instant,
  to: Instant,
  label: string,
): string {
  const width = 640;
  const height = 180;
  const margin = { top: 10, right: 12, bottom: 28, left: 36 };
  const x = scaleTime()
    .domain([new Date(from), new Date(to)])
    .range([margin.left, width - margin.right]);
  const most = Math.max(seats, ...steps.map((s) => s.used), 1);
  const y = scaleLinear()
    .domain([0, most])
    .nice()
    .range([height - margin.bottom, margin.top]);
  const points: [number, number][] = [
    ...steps.map((s): [number, number] => [s.at, s.used]),
    [to, steps.at(-1)?.used ?? 0],
  ];
  const path = line<[number, number]>()
    .x(([t]) => x(new Date(t)))
    .y(([, used]) => y(used))
    .curve(curveStepAfter)(points);
  const ticks = x
    .ticks(4)
    .map(
      (d) =>
        `<text x="${x(d).toFixed(1)}" y="${height - 8}" text-anchor="middle">${html(isoUtc(d.getTime()).slice(0, 10))}</text>`,
    );
  const yTicks = y
    .ticks(4)
    .map((v) => `<text x="${margin.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  return `<figure>
<svg role="img" aria-label="${html(label)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet">
<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${height - margin.bottom}" y2="${height - margin.bottom}"/>
<line class="limit" x1="${margin.left}" x2="${width - margin.right}" y1="${y(seats).toFixed(1)}" y2="${y(seats).toFixed(1)}"/>
<path class="used" d="${path ?? ''}"/>
${ticks.join('')}${yTicks.join('')}
</svg>
<figcaption>${html(label)}: seats used (line) against the ${seats} seats (dashed).</figcaption>
</figure>`;
}
