// Who has access at an instant: a view of the repository, pure (no git, no
// apps). `iden access` and `iden report` print it.
import type { AccessRepo } from '../model/repo.js';
import { type Instant, isoUtc } from '../model/time.js';
import { type Filter, type Spell, type Spells, selected, spellsOf } from './spells.js';

export type { Filter } from './spells.js';

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

/** Every grant active or scheduled at the instant, one row per person and app. */
export function accessAt(repo: AccessRepo, zone: string, at: Instant, filter: Filter = {}): AccessRow[] {
  const spells = spellsOf(repo, zone);
  return rowsOf(spells, selected(spells, filter), at);
}

/** The rows of these spells active or scheduled at the instant. */
export function rowsOf(spells: Spells, list: Iterable<Spell>, at: Instant): AccessRow[] {
  return [...accessRows(spells, list, at)];
}

/** The same rows made one at a time, for views that write them as they go. */
export function* accessRows(spells: Spells, list: Iterable<Spell>, at: Instant): Generator<AccessRow> {
  for (const s of list) {
    if (s.end !== undefined && at >= s.end) continue;
    const person = spells.people.get(s.user);
    yield {
      user: s.user,
      name: person?.name ?? s.user,
      email: person?.email ?? '',
      app: s.app,
      permissions: [...s.permissions],
      ...(s.license !== undefined ? { license: s.license } : {}),
      ...(s.start !== undefined ? { start: isoUtc(s.start) } : {}),
      ...(s.end !== undefined ? { end: isoUtc(s.end) } : {}),
      status: s.start !== undefined && s.start > at ? 'scheduled' : 'active',
      file: s.file,
      ...(s.privileged ? { privileged: true as const } : {}),
      ...(s.emergency
        ? {
            emergency:
              s.emergency.approveBy !== undefined ? { approveBy: isoUtc(s.emergency.approveBy) } : {},
          }
        : {}),
    };
  }
}
