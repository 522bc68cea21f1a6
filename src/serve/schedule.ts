// When `iden serve` must act next, and which notices are due: pure functions
// of the repository and the instant.
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';

/** The earliest start or end strictly after `now`, and the apps whose grants change then. */
export function nextChange(
  repo: AccessRepo,
  zone: string,
  now: Instant,
): { at: Instant; apps: string[] } | undefined {
  let at: Instant | undefined;
  let apps = new Set<string>();
  for (const grant of repo.grants) {
    const g = grant.value;
    if (!g) continue;
    const window = grantWindow(g, zone);
    if (!window) continue;
    for (const t of [window.start, window.end]) {
      if (t === undefined || t <= now) continue;
      if (at === undefined || t < at) {
        at = t;
        apps = new Set([g.app]);
      } else if (t === at) apps.add(g.app);
    }
  }
  return at === undefined ? undefined : { at, apps: [...apps].sort() };
}

/**
 * The apps with a grant that starts or ends in (from, to]: what a run at
 * `to` must cover when its last one evaluated at `from`, so that an instant
 * that passed while a run was busy is never missed.
 */
export function appsDue(repo: AccessRepo, zone: string, from: Instant, to: Instant): string[] {
  const apps = new Set<string>();
  for (const grant of repo.grants) {
    const g = grant.value;
    const window = g && grantWindow(g, zone);
    if (!g || !window) continue;
    for (const t of [window.start, window.end]) if (t !== undefined && t > from && t <= to) apps.add(g.app);
  }
  return [...apps].sort();
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
  const due: Notice[] = [];
  for (const grant of repo.grants) {
    const g = grant.value;
    if (!g) continue;
    const end = grantWindow(g, zone)?.end;
    if (end === undefined || end <= now) continue;
    for (const lead of leads)
      if (end - lead.ms <= now)
        due.push({
          key: `${grant.file}\u0000${end}\u0000${lead.text}`,
          user: g.user,
          app: g.app,
          end,
          before: lead.text,
          file: grant.file,
        });
  }
  return due;
}
