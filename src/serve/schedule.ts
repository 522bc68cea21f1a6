// When `iden serve` must act next, and which notices are due: pure functions
// of the repository and the instant.

import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { firstAfter } from '../util/sorted.js';

/** The earliest start or end strictly after `now`, and the apps whose grants change then. */
export function nextChange(
  repo: AccessRepo,
  zone: string,
  now: Instant,
): { at: Instant; apps: string[] } | undefined {
  const { instants } = indexOf(repo, zone);
  const first = firstAfter(instants, now, (i) => i.at);
  const at = instants[first]?.at;
  if (at === undefined) return undefined;
  const apps = new Set<string>();
  for (let i = first; i < instants.length && instants[i]!.at === at; i++) apps.add(instants[i]!.app);
  return { at, apps: [...apps].sort() };
}

/**
 * The apps with a grant that starts or ends in (from, to]: what a run at
 * `to` must cover when its last one evaluated at `from`, so that an instant
 * that passed while a run was busy is never missed.
 */
export function appsDue(repo: AccessRepo, zone: string, from: Instant, to: Instant): string[] {
  const { instants } = indexOf(repo, zone);
  const apps = new Set<string>();
  for (let i = firstAfter(instants, from, (x) => x.at); i < instants.length && instants[i]!.at <= to; i++)
    apps.add(instants[i]!.app);
  return [...apps].sort();
}

/** Every start and end, and every grant's end, each sorted once per loaded repository (iden serve keeps one a pull). */
interface ScheduleIndex {
  zone: string;
  instants: { at: Instant; app: string }[];
  /** Grants with an end, by end: [end, position in repo.grants]. */
  ends: [Instant, number][];
}

const indexes = new WeakMap<AccessRepo, ScheduleIndex>();

function indexOf(repo: AccessRepo, zone: string): ScheduleIndex {
  const known = indexes.get(repo);
  if (known?.zone === zone) return known;
  const instants: ScheduleIndex['instants'] = [];
  const ends: ScheduleIndex['ends'] = [];
  repo.grants.forEach((grant, position) => {
    const g = grant.value;
    const window = g && grantWindow(g, zone);
    if (!g || !window) return;
    if (window.start !== undefined) instants.push({ at: window.start, app: g.app });
    if (window.end !== undefined) {
      instants.push({ at: window.end, app: g.app });
      ends.push([window.end, position]);
    }
  });
  instants.sort((a, b) => a.at - b.at);
  ends.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const index = { zone, instants, ends };
  indexes.set(repo, index);
  return index;
}

export interface Notice {
  /** Identifies the notice across restarts: grant file, its end, and the lead time. */
  key: string;
  user: string;
  app: string;
  end: Instant;
  before: string;
  file: string;
}

/** Grants whose end is within a lead time of now (and still ahead): one notice per grant, end and lead time. */
export function dueNotices(
  repo: AccessRepo,
  zone: string,
  now: Instant,
  leads: readonly { text: string; ms: number }[],
): Notice[] {
  const { ends } = indexOf(repo, zone);
  // end in (now, now + lead], found among the ends sorted once; given in the grants' order, then the leads'.
  const due: [number, number, Instant][] = [];
  leads.forEach((lead, l) => {
    for (let i = firstAfter(ends, now, (e) => e[0]); i < ends.length && ends[i]![0] - lead.ms <= now; i++)
      due.push([ends[i]![1], l, ends[i]![0]]);
  });
  due.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return due.map(([position, l, end]) => {
    const grant = repo.grants[position]!;
    const lead = leads[l]!;
    return {
      key: `${grant.file}\u0000${end}\u0000${lead.text}`,
      user: grant.value!.user,
      app: grant.value!.app,
      end,
      before: lead.text,
      file: grant.file,
    };
  });
}
