import { accountDefaults } from '../connectors/catalog.js';
import { recordHeaders } from '../git/notes.js';
import { CommitTree } from '../git/tree.js';
import { loadTree } from '../load/repo.js';
import { target } from '../model/access.js';
import { accountFor } from '../model/accounts.js';
import { type AccessRepo, peopleById } from '../model/repo.js';
import { type Instant, zoneOf } from '../model/time.js';
import { grantWindow, isActive } from '../model/window.js';

/** Runs closer together than this count their removals together: the CI matrix's jobs of one schedule. */
export const REMOVAL_WINDOW_MS = 15 * 60_000;

/** Every (app, account, entitlement or tier) the repository's valid grants give at an instant: no app is asked. */
export function wantedEverywhere(repo: AccessRepo, at: Instant): Set<string> {
  const zone = zoneOf(repo);
  const people = peopleById(repo);
  const out = new Set<string>();
  for (const grant of repo.grants) {
    const value = grant.value;
    const app = value && repo.apps.get(value.app)?.value;
    const person = value && people.get(value.user);
    const window = value && grantWindow(value, zone);
    if (!value || !app || !person || !window || !isActive(window, at)) continue;
    const account = accountFor(person, value.app, accountDefaults[app.connector.type]);
    if (!account) continue;
    for (const entitlement of value.permissions ?? [])
      out.add(`${value.app}\u0000${account}\u0000${target({ entitlement })}`);
    if (value.license !== undefined)
      out.add(`${value.app}\u0000${account}\u0000${target({ license: value.license })}`);
  }
  return out;
}

/** The latest recorded run that started at least a window before `now`: what removals are counted since. */
export async function runToCountFrom(
  root: string,
  now: Instant,
): Promise<{ commit: string; at: string; run: string } | undefined> {
  let latest: { commit: string; at: string; run: string } | undefined;
  for (const [commit, lines] of await recordHeaders(root)) {
    for (const line of lines as { run?: unknown; at?: unknown }[]) {
      if (typeof line?.run !== 'string' || typeof line.at !== 'string') continue;
      const run = Date.parse(line.run);
      if (!(run <= now - REMOVAL_WINDOW_MS)) continue;
      if (!latest || line.run > latest.run) latest = { commit, at: line.at, run: line.run };
    }
  }
  return latest;
}

/**
 * What the repository asks to remove across every app since the last
 * recorded run that started at least a window before `now`: the same number
 * for every job of one schedule, whichever app it runs, so splitting a run by
 * app cannot slip a mass removal under the limit. Undefined when no earlier
 * run is recorded.
 */
export async function repositoryRemovals(
  root: string,
  repo: AccessRepo,
  at: Instant,
  now: Instant,
  /** The commit `repo` was read at: a record of that same commit needs no second read of its tree. */
  commit?: string,
): Promise<{ count: number; since: string } | undefined> {
  const latest = await runToCountFrom(root, now);
  if (!latest) return undefined;
  let before: AccessRepo;
  try {
    before = latest.commit === commit ? repo : await loadTree(await CommitTree.open(root, latest.commit));
  } catch {
    return undefined;
  }
  const then = wantedEverywhere(before, Date.parse(latest.at));
  const wanted = wantedEverywhere(repo, at);
  let count = 0;
  for (const key of then) if (!wanted.has(key)) count++;
  return { count, since: latest.run };
}
