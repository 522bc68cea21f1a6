// `iden report`: a static site of who has access, seats and what is coming.
// Every page stands alone: no external script, font, style or image (a
// Content-Security-Policy says so, and the browser test checks no request
// leaves the folder); everything people wrote is escaped; charts are SVG made
// here with d3-scale and d3-shape.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scaleLinear, scaleTime } from 'd3-scale';
import { curveStepAfter, line } from 'd3-shape';
import { type AccessRepo, peopleById } from '../model/repo.js';
import { humanTime, type Instant, isoUtc } from '../model/time.js';
import { groupBy } from '../util/group-by.js';
import { type AccessRow, accessAt } from '../views/access.js';
import { type SeatRow, seatsAt, seatUsage } from '../views/seats.js';
import { upcoming } from '../views/upcoming.js';

const DAY = 86_400_000;

/** Text for HTML: every character that could end text or an attribute, escaped. */
export const html = (text: string): string => text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A file name for an id: ids are already safe, but a page name never trusts that. */
const page = (id: string) => `${encodeURIComponent(id).replace(/%/g, '_')}.html`;

const STYLE = `
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

/** Filters the rows marked data-search as the visitor types; works with no network. */
const SEARCH = `
const box = document.getElementById('search');
box.addEventListener('input', () => {
  const q = box.value.trim().toLowerCase();
  let shown = 0;
  for (const row of document.querySelectorAll('[data-search]')) {
    const hit = row.getAttribute('data-search').includes(q);
    row.hidden = !hit;
    if (hit) shown++;
  }
  document.getElementById('shown').textContent = q ? shown + ' shown' : '';
});
`;

function layout(
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
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${html(title)} · access report</title>
<style>${STYLE}</style>
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

const access = (r: AccessRow) =>
  html([...r.permissions, ...(r.license ? [`${r.license} (tier)`] : [])].join(', '));
const when = (iso: string | undefined, zone: string) => (iso ? html(humanTime(Date.parse(iso), zone)) : '');

function accessTable(
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
      `<tr><td>${link === 'user' ? `<a href="${up}people/${page(r.user)}">${html(r.name)}</a> <small>${html(r.user)}</small>` : `<a href="${up}apps/${page(r.app)}">${html(r.app)}</a>`}</td><td>${access(r)}</td><td>${r.status}</td><td>${when(r.start, zone)}</td><td>${when(r.end, zone)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`;
}

function seatTable(seats: SeatRow[], zone: string): string {
  if (seats.length === 0) return '';
  return `<div class="wrap"><table>
<thead><tr><th scope="col">App</th><th scope="col">Tier</th><th scope="col">Seats</th><th scope="col">Used</th><th scope="col">Free</th><th scope="col">Next free</th></tr></thead>
<tbody>
${seats.map((s) => `<tr><td>${html(s.app)}</td><td>${html(s.tier)}</td><td>${s.seats}</td><td>${s.used}</td><td>${s.free}</td><td>${when(s.nextFree, zone)}</td></tr>`).join('\n')}
</tbody></table></div>`;
}

/** Seats used of a tier over the next 90 days, as a step chart with the limit drawn across. */
function seatChart(
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

/** Writes the site into `out`; returns the pages written, relative to it. */
export function writeSite(
  repo: AccessRepo,
  zone: string,
  at: Instant,
  commit: string | undefined,
  out: string,
): string[] {
  const meta = { commit, at, zone };
  const rows = accessAt(repo, zone, at);
  const seats = seatsAt(repo, zone, at);
  const soon = upcoming(repo, zone, at, at + 30 * DAY);
  const people = peopleById(repo);
  const written: string[] = [];
  const write = (path: string, text: string) => {
    mkdirSync(join(out, path, '..'), { recursive: true });
    writeFileSync(join(out, path), text);
    written.push(path);
  };
  const apps = [...repo.apps.keys()].sort();
  // Grouped once: a page per person over 100,000 rows must not scan them all each time.
  const byApp = groupBy(rows, (r) => r.app);
  const byUser = groupBy(rows, (r) => r.user);
  const holders = [...new Set(rows.map((r) => r.user))].sort();

  const searchRows = [
    ...apps.map((id) => {
      const name = repo.apps.get(id)?.value?.name ?? id;
      const count = byApp.get(id)?.length ?? 0;
      return `<tr data-search="${html(`${id} ${name}`.toLowerCase())}"><td>App</td><td><a href="apps/${page(id)}">${html(name)}</a> <small>${html(id)}</small></td><td>${count} with access or scheduled</td></tr>`;
    }),
    ...holders.map((id) => {
      const p = people.get(id);
      const theirs = (byUser.get(id) ?? []).map((r) => r.app);
      return `<tr data-search="${html(`${id} ${p?.name ?? ''} ${p?.email ?? ''}`.toLowerCase())}"><td>Person</td><td><a href="people/${page(id)}">${html(p?.name ?? id)}</a> <small>${html(id)}</small></td><td>${html(theirs.join(', '))}</td></tr>`;
    }),
  ];
  write(
    'index.html',
    layout(
      'Access overview',
      `<section aria-labelledby="find"><h2 id="find">Apps and people</h2>
<label for="search">Search apps and people</label>
<input id="search" type="search" autocomplete="off" placeholder="a name, an id or an email"> <span id="shown" aria-live="polite"></span>
<div class="wrap"><table><thead><tr><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Access</th></tr></thead>
<tbody>
${searchRows.join('\n')}
</tbody></table></div></section>
<section aria-labelledby="seats"><h2 id="seats">Seats</h2>${seatTable(seats, zone) || '<p>No tier has a seat limit.</p>'}</section>
<section aria-labelledby="soon"><h2 id="soon">Starting and ending in the next 30 days</h2>
${
  soon.length === 0
    ? '<p>Nothing.</p>'
    : `<div class="wrap"><table><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Person</th><th scope="col">App</th><th scope="col">Access</th></tr></thead><tbody>
${soon.map((e) => `<tr><td>${when(e.at, zone)}</td><td>${e.kind}</td><td><a href="people/${page(e.user)}">${html(people.get(e.user)?.name ?? e.user)}</a></td><td><a href="apps/${page(e.app)}">${html(e.app)}</a></td><td>${html([...e.permissions, ...(e.license ? [`${e.license} (tier)`] : [])].join(', '))}</td></tr>`).join('\n')}
</tbody></table></div>`
}</section>`,
      meta,
      0,
      SEARCH,
    ),
  );

  for (const id of apps) {
    const app = repo.apps.get(id)!;
    const mine = byApp.get(id) ?? [];
    const ending = mine.filter((r) => r.end !== undefined && Date.parse(r.end) < at + 30 * DAY);
    const charts = (app.value?.licenses ?? [])
      .filter((t) => t.seats !== undefined)
      .map((t) =>
        seatChart(
          seatUsage(repo, zone, id, t.id, at, at + 90 * DAY),
          t.seats!,
          at,
          at + 90 * DAY,
          `${t.id} over the next 90 days`,
        ),
      );
    write(
      `apps/${page(id)}`,
      layout(
        app.value?.name ?? id,
        `<p>App <code>${html(id)}</code>${app.value ? `, connector ${html(app.value.connector.type)}` : ' (its _app.yaml does not validate)'}.</p>
<h2>Who has access</h2>${accessTable(
          mine.filter((r) => r.status === 'active'),
          zone,
          1,
          'Active',
          'user',
        )}
<h2>Scheduled</h2>${accessTable(
          mine.filter((r) => r.status === 'scheduled'),
          zone,
          1,
          'Scheduled',
          'user',
        )}
<h2>Ending in the next 30 days</h2>${accessTable(ending, zone, 1, 'Ending soon', 'user')}
<h2>Seats</h2>${
          seatTable(
            seats.filter((s) => s.app === id),
            zone,
          ) || '<p>No seat limit.</p>'
        }
${charts.join('\n')}`,
        meta,
        1,
      ),
    );
  }

  for (const id of holders) {
    const p = people.get(id);
    write(
      `people/${page(id)}`,
      layout(
        p?.name ?? id,
        `<p>Person <code>${html(id)}</code>${p ? `, ${html(p.email)}` : ''}.</p>
<h2>Access</h2>${accessTable(byUser.get(id) ?? [], zone, 1, 'Access', 'app')}`,
        meta,
        1,
      ),
    );
  }
  return written;
}
