// What starts and ends in a span of time: a view of the repository, pure.
// `iden upcoming` and `iden report` print it.
import type { AccessRepo } from '../model/repo.js';
import { type Instant, isoUtc } from '../model/time.js';
import { compareIds, type Filter, selected, spellsOf } from './spells.js';

export interface UpcomingEvent {
  kind: 'start' | 'end';
  at: string;
  user: string;
  app: string;
  permissions: string[];
  license?: string;
  file: string;
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
  for (const s of selected(spellsOf(repo, zone), filter)) {
    const starts = s.start !== undefined && s.start >= from && s.start < to;
    const ends = s.end !== undefined && s.end >= from && s.end < to;
    if (!starts && !ends) continue;
    const base = {
      user: s.user,
      app: s.app,
      permissions: [...s.permissions],
      ...(s.license !== undefined ? { license: s.license } : {}),
      file: s.file,
    };
    if (starts) events.push({ kind: 'start', at: isoUtc(s.start!), t: s.start!, ...base });
    if (ends) events.push({ kind: 'end', at: isoUtc(s.end!), t: s.end!, ...base });
  }
  return events
    .sort((a, b) => a.t - b.t || compareIds(a.app, b.app) || compareIds(a.user, b.user))
    .map(({ t: _, ...e }) => e);
}
