// The repository a flow command works on: HEAD as committed, with grants/
// clean in the work tree, read only as far as the command needs.
import { DateTime } from 'luxon';
import { OperatorError, UsageError } from '../errors.js';
import { dirtyGrants } from '../git/branch.js';
import { resolveRef } from '../git/diff.js';
import { CommitTree, listPaths } from '../git/tree.js';
import type { LoadedFile } from '../load/read-file.js';
import { loadTree } from '../load/repo.js';
import type { GrantPath } from '../load/walk.js';
import { parseDuration } from '../model/duration.js';
import { instantOption } from '../model/instant.js';
import type { AccessRepo, Person } from '../model/repo.js';
import { humanTime, type Instant, zoneOf } from '../model/time.js';
import type { Tree } from '../model/tree.js';
import { grantWindow } from '../model/window.js';
import { GRANT_PATH } from '../policy/classify.js';
import { AppOffer } from '../rules/offer.js';

/**
 * The repository as HEAD has it. Its tree is listed whole, but `repo` holds
 * the grant files of the folders in focus only: a grant in one app of a
 * 100,000-file repository reads that app's folder, as the pull-request check does.
 */
export interface Workspace {
  root: string;
  head: string;
  tree: CommitTree;
  repo: AccessRepo;
  zone: string;
  people: Person[];
  now: Instant;
  /** Files already parsed, by blob id, shared by every load of this run. */
  memo: Map<string, LoadedFile>;
  /** The app folders whose grant files `repo` holds. */
  focused: string[];
  /** Per app folder, the names of its grant files (from one listing of HEAD's grants/). */
  names: Map<string, Set<string>>;
}

/** Opens the repository at `root` for a flow command, at the instant `now`. */
export async function openWorkspace(root: string, now: Instant): Promise<Workspace> {
  const head = await resolveRef(root, 'HEAD').catch(() => undefined);
  if (!head)
    throw new UsageError(
      `${root} is not a git repository with commits: iden grant commits on a branch of it`,
    );
  const dirty = await dirtyGrants(root);
  if (dirty.length > 0)
    throw new OperatorError(
      `grants/ has uncommitted changes (${shortList(dirty)}): commit or stash them first; nothing was changed`,
    );
  const tree = await CommitTree.openSome(root, head, []);
  const memo = new Map<string, LoadedFile>();
  const repo = await loadScope(tree, [], memo);
  const names = new Map<string, Set<string>>();
  for (const path of await listPaths(root, head, 'grants/')) {
    const grant = GRANT_PATH.exec(path);
    if (!grant) continue;
    const set = names.get(grant[1]!) ?? new Set<string>();
    names.set(grant[1]!, set.add(grant[2]!));
  }
  const people = repo.people?.value?.people;
  if (!people)
    throw new OperatorError('grants/_people.yaml does not validate: run iden validate and fix it first');
  return { root, head, tree, repo, zone: zoneOf(repo), people, now, memo, focused: [], names };
}

/** The repository with the grant files of these app folders ('all': every one). */
export function loadScope(
  tree: Tree,
  folders: readonly string[] | 'all',
  memo: Map<string, LoadedFile>,
): Promise<AccessRepo> {
  return loadTree(tree, {
    memo,
    ...(folders === 'all' ? {} : { grants: (g: GrantPath) => folders.includes(g.folder) }),
  });
}

/** Brings these app folders' grant files into `ws.repo`. */
export async function focus(ws: Workspace, folders: readonly string[]): Promise<void> {
  ws.tree = await CommitTree.openSome(ws.root, ws.head, folders);
  ws.repo = await loadScope(ws.tree, folders, ws.memo);
  ws.focused = [...folders];
}

/** What the access rules let an app offer (src/rules/offer.ts): the grant flow's and the change flow's one source. */
export function offerFor(ws: Workspace, app: string): AppOffer {
  const entry = ws.repo.apps.get(app);
  return new AppOffer(app, entry?.file ?? '', entry?.value, ws.repo.settings?.value);
}

/** The grant file of an app and a person, read (undefined `current` when there is none). */
export async function heldGrant(ws: Workspace, appText: string, userText: string) {
  const app = appOrFail(ws, appText);
  const person = personOrFail(ws, userText);
  const file = `grants/${app}/${person}.yaml`;
  await focus(ws, [app]);
  return { app, person, file, current: ws.repo.grants.find((g) => g.file === file) };
}

export function appOrFail(ws: Workspace, id: string): string {
  const app = ws.repo.apps.get(id);
  if (!app)
    throw new UsageError(
      `--app ${id}: no app of that id in grants/ (${[...ws.repo.apps.keys()].join(', ')})`,
    );
  if (!app.value)
    throw new OperatorError(`${app.file} does not validate: run iden validate and fix it first`);
  return id;
}

/** A person by id or email, any case. */
export function personOrFail(ws: Workspace, text: string): string {
  const key = text.toLowerCase();
  const person = ws.people.find((p) => p.id === key || p.email.toLowerCase() === key);
  if (!person) throw new UsageError(`--user ${text}: no person of that id or email in grants/_people.yaml`);
  return person.id;
}

/** Whose grant file for the app exists (active, scheduled, or ended and not yet cleaned up). */
export function holders(ws: Workspace, app: string): Set<string> {
  return ws.names.get(app) ?? new Set();
}

/** Refuses a new grant for someone whose grant file for the app exists, saying how to change it. */
export function refuseHolder(ws: Workspace, app: string, person: string): void {
  if (!holders(ws, app).has(person)) return;
  const file = `grants/${app}/${person}.yaml`;
  const grant = ws.repo.grants.find((g) => g.file === file)?.value;
  const window = grant && grantWindow(grant, ws.zone);
  const state =
    window?.end !== undefined && window.end <= ws.now
      ? `had access to ${app} until ${humanTime(window.end, ws.zone)}`
      : window?.start !== undefined && window.start > ws.now
        ? `has access to ${app} from ${humanTime(window.start, ws.zone)}`
        : `already has access to ${app}`;
  throw new OperatorError(
    `${person} ${state} (${file}): change it with iden change --app ${app} --user ${person}`,
  );
}

/**
 * An end as the file will say it. A duration (90d, 2w, 8h) counts from the
 * access's real start: from a bare-date start, or from today when access
 * starts when applied, whole days give a bare date (midnight in the settings'
 * zone, as every bare date is); otherwise the date-time to the minute. Never
 * an instant with milliseconds, fixed at the moment a prompt was answered.
 */
export function writtenEnd(
  ws: Workspace,
  end: string | undefined,
  start: string | undefined,
): string | undefined {
  const ms = end === undefined ? undefined : parseDuration(end);
  if (end === undefined || ms === undefined) return end;
  if (ms <= 0) throw new UsageError(`--end ${end}: a duration must be longer than nothing`);
  const days = ms % 86_400_000 === 0 ? ms / 86_400_000 : undefined;
  const bare = start !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(start);
  if (days !== undefined && (bare || start === undefined || start === 'now')) {
    const from = bare
      ? DateTime.fromISO(start!, { zone: ws.zone })
      : DateTime.fromMillis(ws.now, { zone: ws.zone });
    return from.startOf('day').plus({ days }).toISODate()!;
  }
  const from =
    start === undefined || start === 'now' ? ws.now : instantOption('--start', start, ws.zone, ws.now);
  return humanTime(Math.ceil((from + ms) / 60_000) * 60_000, ws.zone);
}

/** The window a --start and --end give, from now at the earliest; an end that has passed is refused. */
export function windowOf(
  ws: Workspace,
  start: string | undefined,
  end: string | undefined,
): { from: Instant; to: Instant | undefined } {
  if (end === 'now')
    throw new UsageError('--end now: give the date access ends; iden revoke removes access now');
  const from =
    start === undefined || start === 'now' ? ws.now : instantOption('--start', start, ws.zone, ws.now);
  const to = end === undefined ? undefined : instantOption('--end', end, ws.zone, ws.now);
  if (to !== undefined && to <= ws.now)
    throw new UsageError(
      `--end ${end} has passed: access ending then gives nothing (iden revoke removes access now)`,
    );
  return { from: Math.max(from, ws.now), to };
}

export function shortList(items: string[]): string {
  return items.length <= 3
    ? items.join(', ')
    : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}
