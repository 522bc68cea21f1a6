// The parts of an app's page beyond its lists: what can be granted in it
// (each entitlement and tier with an anchor the search links to, who holds
// it, privileged and emergency rules), its access reviews, what the app
// holds that no grant gives (when the report observed the apps), and its
// seat charts.
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import type { AccessRow } from '../views/access.js';
import { seatUsage } from '../views/seats.js';
import { seatChart } from './site-chart.js';
import { html, page, table, when } from './site-layout.js';

const DAY = 86_400_000;

/** What the apps held when the report observed them (`iden report --observed`). */
export interface ObservedApps {
  /** When they were observed (ISO 8601, UTC). */
  at: string;
  /** Apps observed. */
  apps: ReadonlySet<string>;
  /** Access held that no grant gives; `removed`: the app prunes it at the next apply. */
  drift: {
    app: string;
    user: string;
    account: string;
    entitlement?: string | undefined;
    license?: string | undefined;
    removed: boolean;
  }[];
  /** Access held by accounts iden leaves alone (a group role, a superuser). */
  unmanaged: {
    app: string;
    account: string;
    entitlement?: string | undefined;
    license?: string | undefined;
    why: string;
  }[];
  /** Apps that could not be observed, and why. */
  skipped: { app: string; reason: string }[];
}

/** An app's access reviews: its cadence, the last campaign that closed over it, the next due. */
export interface AppReview {
  every?: string;
  /** Where the cadence comes from: the app's review.every, or the settings' for privileged access. */
  from?: 'app' | 'privileged';
  last?: { campaign: string; at: string };
  next?: string;
  overdue: boolean;
}

/** What the report knows beyond the repository: the observed apps, the reviews. */
export interface SiteExtras {
  observed?: ObservedApps;
  /** Per app; absent: reviews were not read, for the reason `unread` gives. */
  reviews?: ReadonlyMap<string, AppReview>;
  unread?: string;
}

/** The anchor of an entitlement or tier on its app's page (the search links to it). */
export const accessAnchor = (id: string) => `access-${encodeURIComponent(id)}`;

const what = (x: { entitlement?: string | undefined; license?: string | undefined }) =>
  html(x.entitlement ?? `${x.license} (tier)`);

/** The last and next review of an app, in words. */
export function reviewCells(review: AppReview | undefined, zone: string): [last: string, next: string] {
  const last = review?.last ? `${when(review.last.at, zone)} (${html(review.last.campaign)})` : 'never';
  if (!review?.every) return [last, 'no cadence'];
  const next = review.next ? when(review.next, zone) : 'now';
  return [last, review.overdue ? `${next} <strong class="flag">overdue</strong>` : next];
}

/** The app's access reviews, as a short paragraph. */
export function reviewSection(id: string, extras: SiteExtras, zone: string): string {
  if (!extras.reviews)
    return `<p class="note">Reviews not shown: ${html(extras.unread ?? 'they are read from git history, and this is not a git repository')}.</p>`;
  const review = extras.reviews.get(id);
  const [last, next] = reviewCells(review, zone);
  const cadence = review?.every
    ? `Reviewed every <code>${html(review.every)}</code>${review.from === 'privileged' ? ' (the settings’ cadence for privileged access)' : ''}.`
    : 'No review cadence: <code>review: { every: P90D }</code> in its <code>_app.yaml</code> sets one.';
  return `<p>${cadence} Last review: ${last}. Next review: ${next}.</p>`;
}

/** Each entitlement and tier: what it gives, its rules, who holds it (active or scheduled). */
export function grantableSection(
  repo: AccessRepo,
  id: string,
  rows: readonly AccessRow[],
  depth: number,
): string {
  const app = repo.apps.get(id)?.value;
  if (!app) return '<p>Its <code>_app.yaml</code> does not validate.</p>';
  const up = '../'.repeat(depth);
  const holders = (has: (r: AccessRow) => boolean) => {
    const mine = rows.filter(has);
    if (mine.length === 0) return 'no one';
    const names = mine
      .slice(0, 20)
      .map((r) => `<a href="${up}people/${page(r.user)}">${html(r.name)}</a>`)
      .join(', ');
    return `${mine.length}: ${names}${mine.length > 20 ? `, and ${mine.length - 20} more` : ''}`;
  };
  const rules = (rule: typeof app.rule) => {
    const r = { ...app.rule, ...rule };
    return [
      ...(r.privileged ? ['<strong class="flag">privileged</strong>'] : []),
      ...(r.emergency ? [`emergency access up to <code>${html(r.emergency.maxDuration)}</code>`] : []),
      ...(r.maxDuration ? [`at most <code>${html(r.maxDuration)}</code>`] : []),
      ...(r.approvals && r.approvals > 1 ? [`${r.approvals} approvals`] : []),
    ].join(', ');
  };
  const cells = [
    ...app.entitlements.map((e) => [
      `<span id="${accessAnchor(e.id)}"><code>${html(e.id)}</code></span>`,
      html(e.kind),
      html(e.description ?? ''),
      rules(e.rule),
      holders((r) => r.permissions.includes(e.id)),
    ]),
    ...(app.licenses ?? []).map((t) => [
      `<span id="${accessAnchor(t.id)}"><code>${html(t.id)}</code></span>`,
      `tier, ${t.seats} seat${t.seats === 1 ? '' : 's'}`,
      html(t.description ?? ''),
      rules(t.rule),
      holders((r) => r.license === t.id),
    ]),
  ];
  return table('grantable', cells, 'What can be granted');
}

/** What the app holds that no grant gives, from the observed apps; or why it is not known. */
export function observedSection(
  id: string,
  extras: SiteExtras,
  depth: number,
  zone: string,
  people: ReadonlyMap<string, { name: string }>,
): string {
  const o = extras.observed;
  if (!o)
    return '<p class="note">Not observed: this report shows what the repository says. <code>iden report --observed</code> (credentials as for <code>iden plan</code>) also lists the accounts and memberships the app holds that no grant manages.</p>';
  const skipped = o.skipped.find((s) => s.app === id);
  if (skipped || !o.apps.has(id))
    return `<p class="note">Not observed at ${when(o.at, zone)}: ${html(skipped?.reason ?? 'not asked')}.</p>`;
  const up = '../'.repeat(depth);
  const rows = [
    ...o.drift
      .filter((d) => d.app === id)
      .map((d) => [
        html(d.account),
        people.has(d.user)
          ? `<a href="${up}people/${page(d.user)}">${html(people.get(d.user)!.name)}</a> <small>${html(d.user)}</small>`
          : 'no one known',
        what(d),
        d.removed
          ? 'no grant gives it: removed at the next apply'
          : 'no grant gives it: drift, kept (the app does not prune)',
      ]),
    ...o.unmanaged
      .filter((u) => u.app === id)
      .map((u) => [html(u.account), 'no one known', what(u), `left alone by iden: ${html(u.why)}`]),
  ];
  if (rows.length === 0)
    return `<p>Observed at ${when(o.at, zone)}: everything the app holds is given by a grant.</p>`;
  return `<p>Observed at ${when(o.at, zone)}: ${rows.length} held in the app that no grant gives.</p>
${table('loose', rows, 'Held without a grant')}`;
}

/** A chart per tier with a seat limit, each under its own heading. */
export function seatCharts(repo: AccessRepo, id: string, zone: string, at: Instant): string {
  return (repo.apps.get(id)?.value?.licenses ?? [])
    .filter((t) => t.seats !== undefined)
    .map((t) =>
      seatChart(seatUsage(repo, zone, id, t.id, at, at + 90 * DAY), t.seats, at, at + 90 * DAY, zone, {
        id: `chart-${encodeURIComponent(t.id)}`,
        text: `Seats of ${t.id}, next 90 days`,
      }),
    )
    .join('\n');
}
