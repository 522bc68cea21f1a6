// Who has access, what seats are left, what starts and ends: views of the
// repository at an instant, pure (no git, no apps). `iden access`,
// `iden upcoming` and `iden report` print them.
import { type AccessRepo, peopleById } from '../model/repo.js';
import { type Instant, isoUtc } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { approveBy, emergencyCut } from '../rules/emergency.js';
import { emergencyWindow, rulesFor } from '../rules/resolve.js';

export interface AccessRow {
  user: string;
  name: string;
  email: string;
  app: string;
  permissions: string[];
  license?: string;
  /** ISO 8601, UTC. */
  start?: string;
  end?: string;
  status: 'active' | 'scheduled';
  file: string;
  /** With --observed: whether the app holds it. */
  observed?: 'in-sync' | 'pending' | 'missing';
  /** A rule marks the access privileged. */
  privileged?: true;
  /** Emergency access, not yet approved after the fact: by when it must be (ISO 8601, UTC), or the next run removes it. */
  emergency?: { approveBy?: string };
}

export interface SeatRow {
  app: string;
  tier: string;
  seats: number;
  used: number;
  free: number;
  /** When the tier is full: the next instant a seat frees up. */
  nextFree?: string;
}

export interface UpcomingEvent {
  kind: 'start' | 'end';
  at: string;
  user: string;
  app: string;
  permissions: string[];
  license?: string;
  file: string;
}

/** A valid grant with its window, the unit every view is made of. */
interface Spell {
  user: string;
  app: string;
  permissions: string[];
  license: string | undefined;
  start: Instant | undefined;
  end: Instant | undefined;
  file: string;
  privileged: boolean;
  emergency: { approveBy?: Instant } | undefined;
}

export interface Filter {
  app?: string | undefined;
  /** A person's id or email (any case). */
  user?: string | undefined;
}

function spells(repo: AccessRepo, zone: string, filter: Filter): Spell[] {
  const people = peopleById(repo);
  const who = filter.user?.toLowerCase();
  const out: Spell[] = [];
  for (const grant of repo.grants) {
    const g = grant.value;
    if (!g) continue;
    if (filter.app !== undefined && g.app !== filter.app) continue;
    const person = people.get(g.user);
    if (who !== undefined && g.user.toLowerCase() !== who && person?.email.toLowerCase() !== who) continue;
    const settings = repo.settings?.value;
    const window = emergencyCut(g, grantWindow(g, zone), emergencyWindow(settings), zone);
    if (!window) continue;
    const app = repo.apps.get(g.app);
    const by = approveBy(g, window, settings, zone);
    out.push({
      privileged: rulesFor(g.app, app?.file ?? '', app?.value, g, settings).some((r) => r.privileged),
      emergency: g.emergency === true ? (by !== undefined ? { approveBy: by } : {}) : undefined,
      user: g.user,
      app: g.app,
      permissions: [...(g.permissions ?? [])],
      license: g.license,
      start: window.start,
      end: window.end,
      file: grant.file,
    });
  }
  return out.sort((a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user));
}

/** Every grant active or scheduled at the instant, one row per person and app. */
export function accessAt(repo: AccessRepo, zone: string, at: Instant, filter: Filter = {}): AccessRow[] {
  const people = peopleById(repo);
  return spells(repo, zone, filter)
    .filter((s) => s.end === undefined || at < s.end)
    .map((s) => ({
      user: s.user,
      name: people.get(s.user)?.name ?? s.user,
      email: people.get(s.user)?.email ?? '',
      app: s.app,
      permissions: s.permissions,
      ...(s.license !== undefined ? { license: s.license } : {}),
      ...(s.start !== undefined ? { start: isoUtc(s.start) } : {}),
      ...(s.end !== undefined ? { end: isoUtc(s.end) } : {}),
      status: s.start !== undefined && s.start > at ? ('scheduled' as const) : ('active' as const),
      file: s.file,
      ...(s.privileged ? { privileged: true as const } : {}),
      ...(s.emergency
        ? {
            emergency:
              s.emergency.approveBy !== undefined ? { approveBy: isoUtc(s.emergency.approveBy) } : {},
          }
        : {}),
    }));
}

/** How many holders a tier has at each instant from `at` on: the steps of its count. */
function seatSteps(holders: Spell[], at: Instant): { at: Instant; used: number }[] {
  const active = (t: Instant) =>
    holders.filter((s) => (s.start ?? -Infinity) <= t && t < (s.end ?? Infinity)).length;
  const instants = [
    ...new Set(
      holders.flatMap((s) => [s.start, s.end]).filter((t): t is Instant => t !== undefined && t > at),
    ),
  ].sort((a, b) => a - b);
  return [{ at, used: active(at) }, ...instants.map((t) => ({ at: t, used: active(t) }))];
}

/** Seats of every tier with a seat limit, at the instant; `nextFree` for a full tier. */
export function seatsAt(repo: AccessRepo, zone: string, at: Instant, filter: Filter = {}): SeatRow[] {
  const all = spells(repo, zone, { app: filter.app });
  const rows: SeatRow[] = [];
  for (const [app, entry] of [...repo.apps].sort(([a], [b]) => a.localeCompare(b))) {
    if (filter.app !== undefined && app !== filter.app) continue;
    for (const tier of entry.value?.licenses ?? []) {
      if (tier.seats === undefined) continue;
      const steps = seatSteps(
        all.filter((s) => s.app === app && s.license === tier.id),
        at,
      );
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

/** Seats used of a tier at each step over a span: for the report's chart. */
export function seatUsage(
  repo: AccessRepo,
  zone: string,
  app: string,
  tier: string,
  from: Instant,
  to: Instant,
): { at: Instant; used: number }[] {
  const holders = spells(repo, zone, { app }).filter((s) => s.license === tier);
  return seatSteps(holders, from).filter((s) => s.at < to);
}

/** Starts and ends in [from, to), in time order. */
export function upcoming(
  repo: AccessRepo,
  zone: string,
  from: Instant,
  to: Instant,
  filter: Filter = {},
): UpcomingEvent[] {
  const events: (UpcomingEvent & { t: Instant })[] = [];
  for (const s of spells(repo, zone, filter)) {
    const base = {
      user: s.user,
      app: s.app,
      permissions: s.permissions,
      ...(s.license !== undefined ? { license: s.license } : {}),
      file: s.file,
    };
    if (s.start !== undefined && s.start >= from && s.start < to)
      events.push({ kind: 'start', at: isoUtc(s.start), t: s.start, ...base });
    if (s.end !== undefined && s.end >= from && s.end < to)
      events.push({ kind: 'end', at: isoUtc(s.end), t: s.end, ...base });
  }
  return events
    .sort((a, b) => a.t - b.t || a.app.localeCompare(b.app) || a.user.localeCompare(b.user))
    .map(({ t: _, ...e }) => e);
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
  const holders = spells(repo, zone, { app }).filter((s) => s.file !== except);
  return (repo.apps.get(app)?.value?.licenses ?? []).map((tier) => {
    const steps = seatSteps(
      holders.filter((s) => s.license === tier.id),
      from,
    );
    const used = Math.max(...steps.filter((s) => to === undefined || s.at < to).map((s) => s.used));
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
