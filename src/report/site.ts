import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { groupBy } from '../util/group-by.js';
import { rowsOf } from '../views/access.js';
import { seatsAt } from '../views/seats.js';
import { byUser, spellsOf } from '../views/spells.js';
import { upcoming } from '../views/upcoming.js';
import {
  grantableSection,
  observedSection,
  reviewCells,
  reviewSection,
  type SiteExtras,
  seatCharts,
} from './site-app.js';
import { siteFolderWriter } from './site-folder.js';
import {
  accessTable,
  html,
  layout,
  page,
  type Reasons,
  STYLE,
  seatTable,
  table,
  when,
} from './site-layout.js';
import { SEARCH_SCRIPT, type SearchEntry, searchShards } from './site-search.js';

export type { AppReview, ObservedApps, SiteExtras } from './site-app.js';
export { html } from './site-layout.js';

const DAY = 86_400_000;
/** Rows on a page: a list longer than this continues on pages of its own. */
export const ROWS = 1000;

type Meta = { commit: string | undefined; at: Instant; zone: string; observed?: string | undefined };
type Write = (path: string, text: string) => void;

/**
 * A list cut into pages: the first chunk is rendered into its host page (the
 * returned HTML), the others into `${base}-N.html`, each with links to all.
 */
function paged<T>(
  write: Write,
  meta: Meta,
  list: { title: string; base: string; hostPath: string; rows: readonly T[] },
  render: (chunk: readonly T[], depth: number) => string,
): string {
  const { title, base, hostPath, rows } = list;
  const count = Math.max(1, Math.ceil(rows.length / ROWS));
  const depthOf = (path: string) => path.split('/').length - 1;
  const pathOf = (n: number) => (n === 1 ? hostPath : `${base}-${n}.html`);
  const nav = (n: number, from: string) => {
    if (count === 1) return '';
    const up = '../'.repeat(depthOf(from));
    const links = Array.from({ length: count }, (_, i) =>
      i + 1 === n ? `<strong>${i + 1}</strong>` : `<a href="${up}${pathOf(i + 1)}">${i + 1}</a>`,
    );
    const first = (n - 1) * ROWS + 1;
    return `<nav class="pages" aria-label="${html(title)}: pages"><p>${first.toLocaleString('en')}–${Math.min(n * ROWS, rows.length).toLocaleString('en')} of ${rows.length.toLocaleString('en')}. Pages: ${links.join(' ')}</p></nav>`;
  };
  for (let n = 2; n <= count; n++) {
    const path = pathOf(n);
    const chunk = rows.slice((n - 1) * ROWS, n * ROWS);
    write(
      path,
      layout(
        `${title}, page ${n}`,
        `${nav(n, path)}${render(chunk, depthOf(path))}${nav(n, path)}`,
        meta,
        depthOf(path),
      ),
    );
  }
  return `${render(rows.slice(0, ROWS), depthOf(hostPath))}${nav(1, hostPath)}`;
}

/** A page's folder name for an id, for the pages that continue its lists. */
const folder = (id: string) => page(id).slice(0, -'.html'.length);

/**
 * Writes the site into `out` (see site-folder.ts: never over a file it did not
 * write, and without the pages of an earlier report this one no longer has);
 * returns the pages written, relative to it, and those removed.
 */
export function writeSite(
  repo: AccessRepo,
  zone: string,
  at: Instant,
  commit: string | undefined,
  out: string,
  extras: SiteExtras = {},
): { written: string[]; removed: string[] } {
  const meta: Meta = { commit, at, zone, observed: extras.observed?.at };
  const observed = extras.observed;
  const spells = spellsOf(repo, zone);
  const people = spells.people;
  const seats = seatsAt(repo, zone, at);
  const soon = upcoming(repo, zone, at, at + 30 * DAY);
  const seatsByApp = groupBy(seats, (s) => s.app);
  const site = siteFolderWriter(out);
  const write: Write = site.write;
  const apps = [...repo.apps.keys()].sort();
  const counts = new Map(apps.map((id) => [id, rowsOf(spells, spells.byApp.get(id) ?? [], at).length]));
  // Each person's spells, grouped once; their rows are made when their page is written.
  const users = byUser(spells);
  // Why each grant gives its access, shown beside it.
  const reasonOf = new Map<string, string>();
  for (const g of repo.grants) if (g.value?.reason) reasonOf.set(g.file, g.value.reason);
  const reasons: Reasons = (file) => reasonOf.get(file);
  // What known people hold in the apps without a grant (observed): they have access too.
  const driftOf = groupBy(
    (observed?.drift ?? []).filter((d) => people.has(d.user)),
    (d) => d.user,
  );
  const holders = [
    ...new Set([
      ...[...users]
        .filter(([, list]) => list.some((s) => s.end === undefined || at < s.end))
        .map(([id]) => id),
      ...driftOf.keys(),
    ]),
  ].sort();

  const entries: SearchEntry[] = [
    ...apps.map((id) => ({
      kind: 'app' as const,
      id,
      name: repo.apps.get(id)?.value?.name ?? id,
      extra: `${counts.get(id) ?? 0} with access or scheduled`,
    })),
    ...holders.map((id) => ({
      kind: 'person' as const,
      id,
      name: people.get(id)?.name ?? id,
      extra: people.get(id)?.email ?? '',
    })),
    // What can be granted: found by its id and what it gives, linking to it on its app's page.
    ...apps.flatMap((app) => {
      const value = repo.apps.get(app)?.value;
      const name = value?.name ?? app;
      return [
        ...(value?.entitlements ?? []).map((e) => ({
          kind: 'access' as const,
          id: e.id,
          name: e.id,
          extra: `${name} ${e.kind}${e.description ? `: ${e.description}` : ''}`,
          app,
        })),
        ...(value?.licenses ?? []).map((t) => ({
          kind: 'access' as const,
          id: t.id,
          name: t.id,
          extra: `${name} tier, ${t.seats} seat${t.seats === 1 ? '' : 's'}${t.description ? `: ${t.description}` : ''}`,
          app,
        })),
      ];
    }),
  ];
  for (const [name, text] of searchShards(entries)) write(`search/${name}`, text);
  // One style sheet for every page, not a copy in each of 100,000.
  write('style.css', STYLE);

  // How much each observed app holds that no grant gives, counted once.
  const looseCount = new Map<string, number>();
  for (const x of [...(observed?.drift ?? []), ...(observed?.unmanaged ?? [])])
    looseCount.set(x.app, (looseCount.get(x.app) ?? 0) + 1);
  const appRows = (chunk: readonly string[], depth: number) => {
    const up = '../'.repeat(depth);
    return table(
      observed ? 'apps-observed' : 'apps',
      chunk.map((id) => {
        const [last, next] = extras.reviews ? reviewCells(extras.reviews.get(id), zone) : ['', ''];
        const loose = observed
          ? observed.apps.has(id)
            ? String(looseCount.get(id) ?? 0)
            : 'not observed'
          : undefined;
        return [
          `<a href="${up}apps/${page(id)}">${html(repo.apps.get(id)?.value?.name ?? id)}</a> <small>${html(id)}</small>`,
          `${counts.get(id) ?? 0} with access or scheduled`,
          last,
          next,
          ...(loose !== undefined ? [loose] : []),
        ];
      }),
      'Apps',
    );
  };
  const soonRows = (chunk: readonly (typeof soon)[number][], depth: number) => {
    const up = '../'.repeat(depth);
    return table(
      'soon',
      chunk.map((e) => [
        when(e.at, zone),
        e.kind,
        `<a href="${up}people/${page(e.user)}">${html(people.get(e.user)?.name ?? e.user)}</a>`,
        `<a href="${up}apps/${page(e.app)}">${html(e.app)}</a>`,
        html([...e.permissions, ...(e.license ? [`${e.license} (tier)`] : [])].join(', ')),
      ]),
      'Starting and ending in the next 30 days',
    );
  };
  write(
    'index.html',
    layout(
      'Access overview',
      `<section aria-labelledby="find"><h2 id="find">Find an app, a person or access</h2>
<label for="search">Search apps, people and access</label>
<input id="search" type="search" autocomplete="off" placeholder="a name, an id, an email or an entitlement"> <span id="shown" aria-live="polite"></span>
<div class="wrap"><table class="cards t-found"><caption class="visually-hidden">Search results</caption><thead><tr><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">About</th></tr></thead>
<tbody id="results"></tbody></table></div>
<p>${holders.length === 1 ? '1 person has access or has' : `${holders.length.toLocaleString('en')} people have access or have`} it scheduled, in ${apps.length === 1 ? '1 app' : `${apps.length.toLocaleString('en')} apps`}.</p></section>
<section aria-labelledby="apps"><h2 id="apps">Apps</h2>
${paged(write, meta, { title: 'Apps', base: 'more/apps', hostPath: 'index.html', rows: apps }, appRows)}</section>
<section aria-labelledby="seats"><h2 id="seats">Seats</h2>${
        seats.length === 0
          ? '<p>No tier has a seat limit.</p>'
          : paged(
              write,
              meta,
              { title: 'Seats', base: 'more/seats', hostPath: 'index.html', rows: seats },
              (c) => seatTable([...c], zone),
            )
      }</section>
<section aria-labelledby="soon"><h2 id="soon">Starting and ending in the next 30 days</h2>
${
  soon.length === 0
    ? '<p>Nothing.</p>'
    : paged(
        write,
        meta,
        {
          title: 'Starting and ending in the next 30 days',
          base: 'more/soon',
          hostPath: 'index.html',
          rows: soon,
        },
        soonRows,
      )
}</section>`,
      meta,
      0,
      SEARCH_SCRIPT,
    ),
  );

  for (const id of apps) {
    const app = repo.apps.get(id)!;
    const path = `apps/${page(id)}`;
    const mine = rowsOf(spells, spells.byApp.get(id) ?? [], at);
    const ending = mine.filter((r) => r.end !== undefined && Date.parse(r.end) < at + 30 * DAY);
    const list = (title: string, part: string, rows: typeof mine) =>
      paged(
        write,
        meta,
        {
          title: `${app.value?.name ?? id}: ${title}`,
          base: `more/apps/${folder(id)}/${part}`,
          hostPath: path,
          rows,
        },
        (chunk, depth) => accessTable([...chunk], zone, depth, title, 'user', reasons),
      );
    write(
      path,
      layout(
        app.value?.name ?? id,
        `<p>App <code>${html(id)}</code>${app.value ? `, connector ${html(app.value.connector.type)}` : ' (its _app.yaml does not validate)'}.</p>
<h2>Who has access</h2>${list(
          'Active',
          'active',
          mine.filter((r) => r.status === 'active'),
        )}
<h2>Scheduled</h2>${list(
          'Scheduled',
          'scheduled',
          mine.filter((r) => r.status === 'scheduled'),
        )}
<h2>Ending in the next 30 days</h2>${list('Ending soon', 'ending', ending)}
<h2>Held without a grant</h2>${observedSection(id, extras, 1, zone, people)}
<h2>What can be granted</h2>${grantableSection(repo, id, mine, 1)}
<h2>Access reviews</h2>${reviewSection(id, extras, zone)}
<h2>Seats</h2>${seatTable(seatsByApp.get(id) ?? [], zone) || '<p>No seat limit.</p>'}
${seatCharts(repo, id, zone, at)}`,
        meta,
        1,
      ),
    );
  }

  for (const id of holders) {
    const p = people.get(id);
    const path = `people/${page(id)}`;
    const rows = rowsOf(spells, users.get(id) ?? [], at);
    const loose = driftOf.get(id) ?? [];
    write(
      path,
      layout(
        p?.name ?? id,
        `<p>Person <code>${html(id)}</code>${p ? `, ${html(p.email)}` : ''}.</p>
<h2>Access</h2>${paged(
          write,
          meta,
          {
            title: `${p?.name ?? id}: access`,
            base: `more/people/${folder(id)}/access`,
            hostPath: path,
            rows,
          },
          (chunk, depth) => accessTable([...chunk], zone, depth, 'Access', 'app', reasons),
        )}${
          loose.length
            ? `\n<h2>Held without a grant</h2>\n${table(
                'loose-person',
                loose.map((d) => [
                  `<a href="../apps/${page(d.app)}">${html(d.app)}</a>`,
                  html(d.account),
                  html(d.entitlement ?? `${d.license} (tier)`),
                  d.removed
                    ? 'no grant gives it: removed at the next apply'
                    : 'no grant gives it: drift, kept',
                ]),
                'Held without a grant',
              )}`
            : ''
        }`,
        meta,
        1,
      ),
    );
  }
  return site.finish();
}
