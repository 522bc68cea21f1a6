// The unit every view is made of, a valid grant with its window, grouped once
// per repository: by app (apps and people in order) and by app and licence
// tier. Each view then reads only its group, so access, upcoming and the
// report stay linear in grants however many tiers the apps declare.
import { type AccessRepo, type Person, peopleById } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { approveBy, emergencyCut } from '../rules/emergency.js';
import { emergencyWindow, rulesFor } from '../rules/resolve.js';
import { compareIds } from '../util/sorted.js';

/** A valid grant with its window. */
export interface Spell {
  user: string;
  app: string;
  permissions: readonly string[];
  license: string | undefined;
  start: Instant | undefined;
  end: Instant | undefined;
  file: string;
  /** A rule marks the access privileged. */
  privileged: boolean;
  /** Emergency access not yet approved after the fact: by when it must be, or the next run removes it. */
  emergency: { approveBy?: Instant } | undefined;
}

export interface Filter {
  app?: string | undefined;
  /** A person's id or email (any case). */
  user?: string | undefined;
}

export interface Spells {
  people: Map<string, Person>;
  /** Apps in order, each with its spells in the order of their users. */
  byApp: Map<string, Spell[]>;
  /** Keyed by `tierKey(app, tier)`. */
  byTier: Map<string, Spell[]>;
}

const order = compareIds;

export { compareIds };
export const tierKey = (app: string, tier: string) => `${app}\u0000${tier}`;

const made = new WeakMap<AccessRepo, { zone: string; spells: Spells }>();

/** The repository's spells, grouped; made once per repository and zone. */
export function spellsOf(repo: AccessRepo, zone: string): Spells {
  const known = made.get(repo);
  if (known?.zone === zone) return known.spells;
  const byApp = new Map<string, Spell[]>();
  const settings = repo.settings?.value;
  const cutAfter = emergencyWindow(settings);
  for (const grant of repo.grants) {
    const g = grant.value;
    if (!g) continue;
    // Emergency access unapproved past the settings' window ends there (the next run removes it).
    const window = emergencyCut(g, grantWindow(g, zone), cutAfter, zone);
    if (!window) continue;
    const app = repo.apps.get(g.app);
    const by = approveBy(g, window, settings, zone);
    const spell: Spell = {
      privileged: rulesFor(g.app, app?.file ?? '', app?.value, g, settings).some((r) => r.privileged),
      emergency: g.emergency === true ? (by !== undefined ? { approveBy: by } : {}) : undefined,
      user: g.user,
      app: g.app,
      permissions: g.permissions ?? [],
      license: g.license,
      start: window.start,
      end: window.end,
      file: grant.file,
    };
    const list = byApp.get(g.app);
    if (list) list.push(spell);
    else byApp.set(g.app, [spell]);
  }
  const sorted = new Map([...byApp].sort(([a], [b]) => order(a, b)));
  const byTier = new Map<string, Spell[]>();
  for (const list of sorted.values()) {
    list.sort((a, b) => order(a.user, b.user));
    for (const s of list) {
      if (s.license === undefined) continue;
      const key = tierKey(s.app, s.license);
      const tier = byTier.get(key);
      if (tier) tier.push(s);
      else byTier.set(key, [s]);
    }
  }
  const spells = { people: peopleById(repo), byApp: sorted, byTier };
  made.set(repo, { zone, spells });
  return spells;
}

/** The spells a filter selects, apps and users in order. */
export function* selected(spells: Spells, filter: Filter): Generator<Spell> {
  const who = filter.user?.toLowerCase();
  const apps =
    filter.app === undefined ? spells.byApp.values() : [spells.byApp.get(filter.app) ?? []].values();
  for (const list of apps)
    for (const s of list) {
      if (who !== undefined && s.user.toLowerCase() !== who) {
        const email = spells.people.get(s.user)?.email.toLowerCase();
        if (email !== who) continue;
      }
      yield s;
    }
}

/** The spells of each person (by user id, first seen first), apps in order within each. */
export function byUser(spells: Spells): Map<string, Spell[]> {
  const users = new Map<string, Spell[]>();
  for (const list of spells.byApp.values())
    for (const s of list) {
      const mine = users.get(s.user);
      if (mine) mine.push(s);
      else users.set(s.user, [s]);
    }
  return users;
}
