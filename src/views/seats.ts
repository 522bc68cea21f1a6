// Seats of licence tiers: used and free at an instant, over a span (the
// report's chart), and over a window (what `iden grant` offers). Each tier
// reads only its own holders, counted in one sweep over their starts and ends.
import type { AccessRepo } from '../model/repo.js';
import { type Instant, isoUtc } from '../model/time.js';
import { compareIds, type Filter, type Spell, selected, spellsOf, tierKey } from './spells.js';

export interface SeatRow {
  app: string;
  tier: string;
  seats: number;
  used: number;
  free: number;
  /** When the tier is full: the next instant a seat frees up. */
  nextFree?: string;
}

/** How many holders a tier has at `at` and at each instant after it where that changes. */
export function seatSteps(holders: readonly Spell[], at: Instant): { at: Instant; used: number }[] {
  let used = 0;
  const deltas = new Map<Instant, number>();
  const add = (t: Instant, d: number) => deltas.set(t, (deltas.get(t) ?? 0) + d);
  for (const s of holders) {
    if ((s.start ?? -Infinity) <= at && at < (s.end ?? Infinity)) used++;
    if (s.start !== undefined && s.start > at && (s.end === undefined || s.start < s.end)) add(s.start, 1);
    if (s.end !== undefined && s.end > at && (s.start ?? -Infinity) < s.end) add(s.end, -1);
  }
  // Instants where someone starts or ends count as steps even when the count stays (as before).
  for (const s of holders) {
    if (s.start !== undefined && s.start > at && !deltas.has(s.start)) deltas.set(s.start, 0);
    if (s.end !== undefined && s.end > at && !deltas.has(s.end)) deltas.set(s.end, 0);
  }
  const steps = [{ at, used }];
  for (const t of [...deltas.keys()].sort((a, b) => a - b)) {
    used += deltas.get(t)!;
    steps.push({ at: t, used });
  }
  return steps;
}

const holdersOf = (repo: AccessRepo, zone: string, app: string, tier: string): Spell[] =>
  spellsOf(repo, zone).byTier.get(tierKey(app, tier)) ?? [];

/**
 * Seats of every tier with a seat limit, at the instant; `nextFree` for a full
 * tier. With `filter.app`, that app's; with `filter.user`, those of the apps
 * the person has access to or is scheduled for at the instant (what
 * `iden access --user` shows beside their rows).
 */
export function seatsAt(repo: AccessRepo, zone: string, at: Instant, filter: Filter = {}): SeatRow[] {
  const apps = appsOf(repo, zone, at, filter);
  const rows: SeatRow[] = [];
  for (const app of apps) {
    for (const tier of repo.apps.get(app)?.value?.licenses ?? []) {
      if (tier.seats === undefined) continue;
      const steps = seatSteps(holdersOf(repo, zone, app, tier.id), at);
      const used = steps[0]!.used;
      const free = tier.seats - used;
      const next = free <= 0 ? steps.find((s) => s.used < tier.seats!) : undefined;
      rows.push({
        app,
        tier: tier.id,
        seats: tier.seats,
        used,
        free,
        ...(next ? { nextFree: isoUtc(next.at) } : {}),
      });
    }
  }
  return rows;
}

/** The apps whose seats a filter shows, in order. */
function appsOf(repo: AccessRepo, zone: string, at: Instant, filter: Filter): string[] {
  if (filter.user !== undefined) {
    const apps = new Set<string>();
    for (const s of selected(spellsOf(repo, zone), filter))
      if (s.end === undefined || at < s.end) apps.add(s.app);
    return [...apps].filter((a) => repo.apps.has(a)).sort(compareIds);
  }
  if (filter.app !== undefined) return repo.apps.has(filter.app) ? [filter.app] : [];
  return [...repo.apps.keys()].sort(compareIds);
}

/** Seats used of a tier at each step over a span: for the report's chart. */
export function seatUsage(
  repo: AccessRepo,
  zone: string,
  app: string,
  tier: string,
  from: Instant,
  to: Instant,
): { at: Instant; used: number }[] {
  return seatSteps(holdersOf(repo, zone, app, tier), from).filter((s) => s.at < to);
}

/** A tier as `iden grant` offers it for a window: the most seats used at once in it, and whether one is left. */
export interface TierChoice {
  tier: string;
  description?: string;
  /** Undefined: no seat limit. */
  seats?: number;
  /** The most holders at any instant of the window. */
  used: number;
  full: boolean;
  /** For a full tier: the first instant from the window's start at which a seat is free. */
  nextFree?: Instant;
}

/** The app's tiers over [from, to) (to undefined: no end), leaving out the grant file `except` (a change to it). */
export function tierChoices(
  repo: AccessRepo,
  zone: string,
  app: string,
  from: Instant,
  to: Instant | undefined,
  except?: string,
): TierChoice[] {
  return (repo.apps.get(app)?.value?.licenses ?? []).map((tier) => {
    const steps = seatSteps(
      holdersOf(repo, zone, app, tier.id).filter((s) => s.file !== except),
      from,
    );
    let used = 0;
    for (const s of steps) if (to === undefined || s.at < to) used = Math.max(used, s.used);
    const full = tier.seats !== undefined && used >= tier.seats;
    const next = full ? steps.find((s) => s.used < tier.seats!) : undefined;
    return {
      tier: tier.id,
      ...(tier.description !== undefined ? { description: tier.description } : {}),
      ...(tier.seats !== undefined ? { seats: tier.seats } : {}),
      used,
      full,
      ...(next ? { nextFree: next.at } : {}),
    };
  });
}
