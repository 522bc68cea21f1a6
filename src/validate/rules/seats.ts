import { error, type Finding } from '../../model/diagnostics.js';
import { humanTime, type Instant } from '../../model/time.js';
import { grantWindow } from '../../model/window.js';
import { count } from '../../util/plural.js';
import type { GrantView, RuleContext } from '../context.js';

interface Event {
  at: Instant;
  /** +1 a seat taken, -1 a seat freed. */
  delta: 1 | -1;
  grant: GrantView;
}

/**
 * At no instant from now on may more grants hold a tier than it has seats.
 * A sweep over start and end events per tier: O(n log n), not pairwise.
 * Ends sort before starts at the same instant, since end is exclusive.
 */
export function seatLimits(ctx: RuleContext): Finding[] {
  const byTier = new Map<string, Event[]>();
  for (const grant of ctx.grants) {
    const { app, license } = grant;
    if (license === undefined) continue;
    const window = grantWindow(grant, ctx.zone);
    if (!window) continue;
    const start = Math.max(window.start ?? ctx.at, ctx.at);
    const end = window.end ?? Number.POSITIVE_INFINITY;
    if (end <= start) continue;
    const key = `${app}\u0000${license}`;
    const events = byTier.get(key) ?? [];
    byTier.set(key, events);
    events.push({ at: start, delta: 1, grant }, { at: end, delta: -1, grant });
  }

  const findings: Finding[] = [];
  for (const [key, events] of byTier) {
    const [appId, tierId] = key.split('\u0000') as [string, string];
    const seats = ctx.apps.get(appId)?.licenses.find((l) => l.id === tierId)?.seats;
    if (seats === undefined || seats < 0) continue;
    events.sort((a, b) => a.at - b.at || a.delta - b.delta || (a.grant.file < b.grant.file ? -1 : 1));
    const holders = new Set<GrantView>();
    for (const event of events) {
      if (event.delta === -1) {
        holders.delete(event.grant);
        continue;
      }
      holders.add(event.grant);
      if (holders.size <= seats) continue;
      // The grant under review takes the seat too many, whichever came first in time.
      const culprit = ctx.blame.has(event.grant.file)
        ? event.grant
        : ([...holders].find((g) => ctx.blame.has(g.file)) ?? event.grant);
      const others = [...holders].filter((g) => g !== culprit).map((g) => g.user);
      findings.push(
        error(
          culprit.file,
          'seats-exceeded',
          `license "${tierId}" of app "${appId}" has ${seats} seat${seats === 1 ? '' : 's'}, but from ${humanTime(event.at, ctx.zone)} ${count(holders.size, 'grant holds', 'grants hold')} it: ${culprit.user} with ${shortList(others)}; end another grant first or raise seats`,
          ['license'],
        ),
      );
      // The grant over the limit does not hold a seat, so later grants are judged without it.
      holders.delete(culprit);
    }
  }
  return findings;
}

function shortList(names: string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

/**
 * For each tier with a seat limit that some instant exceeds, the instant from
 * which it never is exceeded again (Infinity: never); tiers never over their
 * limit are absent. seatLimits at an instant from that one on finds nothing in
 * the tier: from any instant, the grants holding a tier at each later instant
 * are the same whatever instant the sweep starts at.
 */
export function seatsOverUntil(ctx: Pick<RuleContext, 'grants' | 'zone' | 'apps'>): Map<string, Instant> {
  const byTier = new Map<string, { at: Instant; delta: 1 | -1 }[]>();
  for (const grant of ctx.grants) {
    const { app, license } = grant;
    if (license === undefined) continue;
    const window = grantWindow(grant, ctx.zone);
    if (!window) continue;
    const start = window.start ?? Number.NEGATIVE_INFINITY;
    const end = window.end ?? Number.POSITIVE_INFINITY;
    if (end <= start) continue;
    const key = `${app}\u0000${license}`;
    const events = byTier.get(key) ?? [];
    byTier.set(key, events);
    events.push({ at: start, delta: 1 }, { at: end, delta: -1 });
  }
  const out = new Map<string, Instant>();
  for (const [key, events] of byTier) {
    const [appId, tierId] = key.split('\u0000') as [string, string];
    const seats = ctx.apps.get(appId)?.licenses.find((l) => l.id === tierId)?.seats;
    if (seats === undefined || seats < 0) continue;
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let held = 0;
    let over = false;
    let until: Instant | undefined;
    for (const event of events) {
      held += event.delta;
      if (held > seats) over = true;
      else if (over) {
        over = false;
        until = event.at;
      }
    }
    if (over) until = Number.POSITIVE_INFINITY;
    if (until !== undefined) out.set(key, until);
  }
  return out;
}
