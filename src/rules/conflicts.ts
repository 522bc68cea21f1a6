import type { SettingsFile } from '../model/repo.js';
import { humanTime, type Instant, parseTime } from '../model/time.js';
import type { Window } from '../model/window.js';

/** A separation-of-duties set from _settings.yaml: no one may hold all of it at once. */
export interface Conflict {
  index: number;
  name: string;
  /** app:entitlement keys. */
  entitlements: string[];
  effective?: string;
}

/** A grant as conflicts see it: who, which entitlements, when, and any exception it carries. */
export interface HeldGrant {
  file: string;
  user: string;
  app: string;
  permissions: readonly string[];
  window: Window;
  exception?: { reason: string; end: string } | undefined;
}

export interface ConflictFinding {
  /** The grant the finding is placed on: one a pull request changes, else the one that came last. */
  file: string;
  user: string;
  conflict: Conflict;
  /** Every grant file taking part. */
  files: string[];
  /** A grant of the set carries an exception still running: no error, but reviewers see it. */
  exception?: { file: string; reason: string; end: string };
  message: string;
}

export function conflictsOf(settings: SettingsFile | undefined): Conflict[] {
  return (settings?.conflicts ?? []).map((c, index) => {
    const entitlements = Array.isArray(c) ? [...c] : [...c.entitlements];
    const named = Array.isArray(c) ? undefined : c.name;
    const effective = Array.isArray(c) ? undefined : c.effective;
    return {
      index,
      name: named ?? entitlements.join(' and '),
      entitlements,
      ...(effective !== undefined ? { effective } : {}),
    };
  });
}

/**
 * Every person who would hold a whole conflict set at one instant from `at`
 * on (grants already ended do not count). Linear in the grants: only grants
 * of entitlements some conflict names are looked at.
 */
export function findConflicts(
  grants: Iterable<HeldGrant>,
  conflicts: readonly Conflict[],
  at: Instant,
  zone: string,
  blame: ReadonlySet<string> = new Set(),
): ConflictFinding[] {
  if (conflicts.length === 0) return [];
  const byKey = new Map<string, Conflict[]>();
  for (const c of conflicts) for (const k of c.entitlements) byKey.set(k, [...(byKey.get(k) ?? []), c]);
  // Per app, the entitlements some conflict names and their keys: no key is made for a grant's permission.
  const watched = new Map<string, Map<string, string>>();
  for (const key of byKey.keys()) {
    const colon = key.indexOf(':');
    if (colon < 0) continue; // no grant's app:permission could be it
    const app = key.slice(0, colon);
    watched.set(app, (watched.get(app) ?? new Map()).set(key.slice(colon + 1), key));
  }
  const byUser = new Map<string, Map<string, HeldGrant>>();
  for (const grant of grants) {
    if (grant.window.end !== undefined && grant.window.end <= at) continue;
    const named = watched.get(grant.app);
    if (!named) continue;
    for (const p of grant.permissions) {
      const key = named.get(p);
      if (key === undefined) continue;
      let held = byUser.get(grant.user);
      if (!held) {
        held = new Map();
        byUser.set(grant.user, held);
      }
      if (!held.has(key)) held.set(key, grant);
    }
  }
  const findings: ConflictFinding[] = [];
  // Most conflicts start now: the instant is written once, not once a finding.
  const human = new Map<Instant, string>();
  const humanOnce = (t: Instant) => human.get(t) ?? human.set(t, humanTime(t, zone)).get(t)!;
  for (const [user, held] of byUser) {
    if (held.size < 2) continue;
    const candidates = new Set<Conflict>();
    for (const key of held.keys()) for (const c of byKey.get(key) ?? []) candidates.add(c);
    for (const conflict of [...candidates].sort((a, b) => a.index - b.index)) {
      const parts = conflict.entitlements.map((k) => held.get(k));
      if (parts.some((g) => g === undefined)) continue;
      const set = [...new Set(parts as HeldGrant[])];
      const from = Math.max(at, ...set.map((g) => g.window.start ?? at));
      const until = Math.min(...set.map((g) => g.window.end ?? Number.POSITIVE_INFINITY));
      if (from >= until) continue;
      const files = set.map((g) => g.file).sort();
      const excepted = set.find((g) => {
        const end = g.exception && parseTime(g.exception.end, zone);
        return end?.ok === true && end.at > at;
      });
      const placed =
        files.find((f) => blame.has(f)) ??
        [...set].sort(
          (a, b) => (b.window.start ?? at) - (a.window.start ?? at) || b.file.localeCompare(a.file),
        )[0]!.file;
      const holds = conflict.entitlements.join(' and ');
      const message = excepted
        ? `${user} holds ${holds} (${conflict.name}, a separation-of-duties conflict) under the exception in ${excepted.file} until ${excepted.exception!.end}: ${excepted.exception!.reason}`
        : `${user} would hold ${holds} from ${humanOnce(from)}, which _settings.yaml's conflicts forbid one person to hold at once (${conflict.name}; grants ${files.join(', ')}): remove one, or add exception: with a reason and an end, which needs a Super Admin's approval`;
      findings.push({
        file: placed,
        user,
        conflict,
        files,
        ...(excepted
          ? {
              exception: {
                file: excepted.file,
                reason: excepted.exception!.reason,
                end: excepted.exception!.end,
              },
            }
          : {}),
        message,
      });
    }
  }
  return findings;
}
