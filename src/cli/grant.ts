import { DateTime } from 'luxon';
import { OperatorError } from '../errors.js';
import {
  branchExists,
  commitOnNewBranch,
  currentBranch,
  dirtyGrants,
  pushBranch,
  pushRemote,
  remoteHasBranch,
  repositoryFromUrl,
  validBranchName,
} from '../git/branch.js';
import { resolveRef } from '../git/diff.js';
import { gitConfig } from '../git/identity.js';
import { repositoryRoot } from '../git/state.js';
import { CommitTree, listPaths } from '../git/tree.js';
import { type ChangeEdit, editFor, grantText, offboardChanges } from '../grant/files.js';
import { OverlayTree } from '../load/overlay.js';
import type { LoadedFile } from '../load/read-file.js';
import { loadTree } from '../load/repo.js';
import type { Tree } from '../load/tree.js';
import type { GrantPath } from '../load/walk.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { parseDuration } from '../model/duration.js';
import { type AccessRepo, type GrantFile, type Person, peopleById } from '../model/repo.js';
import { humanTime, type Instant, parseTime, zoneOf } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { basePolicy } from '../policy/base-policy.js';
import { type Classification, type FileVerdict, GRANT_PATH } from '../policy/classify.js';
import { judgeChange, type RawChange } from '../policy/judge.js';
import { recentRevocations } from '../policy/revocations.js';
import { formatDiagnostics } from '../report/diagnostics.js';
import { escapeMarkdown } from '../report/plan.js';
import { validateRepo } from '../validate/validate.js';
import { type TierChoice, tierChoices } from '../views/seats.js';
import { EXIT, type Io, UsageError } from './io.js';
import { instantOption } from './options.js';

type Format = 'text' | 'json';

/** Flags every one of the four commands takes. */
interface Common {
  repo?: string;
  reason?: string;
  branch?: string;
  /** false with --no-pr. */
  pr: boolean;
  yes?: boolean;
  format: Format;
  as?: string;
}

export interface GrantOptions extends Common {
  app?: string;
  user?: string;
  permission?: string[];
  license?: string;
  start?: string;
  end?: string;
}

export interface ChangeOptions extends Common {
  app: string;
  user: string;
  addPermission?: string[];
  removePermission?: string[];
  license?: string;
  start?: string;
  /** false with --no-end. */
  end?: string | false;
}

export interface RevokeOptions extends Common {
  app: string;
  user: string;
}

export interface OffboardOptions extends Common {
  user: string;
  removePerson?: boolean;
}

export type Action = 'grant' | 'change' | 'revoke' | 'offboard';

/** The contract of `--format json`. */
export interface ActionResult {
  action: Action;
  files: string[];
  branch: string;
  commit: string;
  classification: Extract<
    Classification,
    'direct-grant' | 'access-request' | 'change' | 'revocation' | 'revocation-request'
  >;
  /** Person ids who can approve it (empty when no approval is needed). */
  approvers: string[];
  /** Whether it changes files other than grants (offboard --remove-person): a policy change. */
  policy: boolean;
  pr?: { number: number; url: string };
}

/**
 * The repository as HEAD has it, with grants/ clean in the work tree. Its
 * tree is listed whole, but `repo` holds the grant files of the folders in
 * focus only: a grant in one app of a 100,000-file repository reads that
 * app's folder, as the pull-request check does.
 */
interface Workspace {
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

/** What one command proposes: the files, the commit, and words for people. */
interface Proposal {
  action: Action;
  changes: Map<string, string | null>;
  subject: string;
  branch: string;
  /** Lines describing the change, for the summary and the pull request. */
  describe: string[];
}

/** The prompts, loaded only when someone is at a terminal. */
type Inquirer = typeof import('@inquirer/prompts');

// ---------------------------------------------------------------- commands

export async function runGrant(options: GrantOptions, io: Io): Promise<number> {
  return guard(async () => {
    const ws = await open(options, io);
    const ask = await prompter(options, io);
    const people = peopleById(ws.repo);
    let app = options.app !== undefined ? appOrFail(ws, options.app) : undefined;
    let person = options.user !== undefined ? personOrFail(ws, options.user) : undefined;
    // Like the product: from an app, pick the person; from a person, pick the app; else the app first.
    if (!app) app = await pickApp(ws, ask, '--app', person);
    await focus(ws, [app]);
    if (person) refuseHolder(ws, app, person);
    if (!person)
      person = await pickPerson(ws, ask, app, people, options.format === 'json' ? io.stderr : io.stdout);

    const entry = ws.repo.apps.get(app)!.value!;
    let permissions = options.permission;
    if (permissions === undefined) {
      if (entry.entitlements.length === 0) permissions = [];
      else if (ask) permissions = await pickPermissions(ask, entry, [], (entry.licenses ?? []).length === 0);
      else if ((entry.licenses ?? []).length > 0) permissions = [];
      else
        throw missing(
          '--permission',
          entry.entitlements.map((e) => e.id),
        );
    }

    let start = options.start;
    let end = options.end;
    if (start === undefined && end === undefined && ask) ({ start, end } = await pickSchedule(ask, ws));
    const window = windowOf(ws, start, end);

    let license = options.license;
    const tiers = entry.licenses ?? [];
    if (license === undefined && tiers.length > 0) {
      const choices = tierChoices(ws.repo, ws.zone, app, window.from, window.to);
      if (ask) license = await pickTier(ask, ws, choices);
      else
        throw missing(
          '--license',
          tiers.map((t) => t.id),
        );
    }

    let reason = options.reason;
    if (reason === undefined && ask) reason = await askReason(ask, undefined);

    const grant: GrantFile = {
      user: person,
      app,
      ...(permissions.length > 0 || tiers.length === 0 ? { permissions } : {}),
      ...(license !== undefined ? { license } : {}),
      ...(start !== undefined && start !== 'now' ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      ...(reason ? { reason } : {}),
    };
    const file = `grants/${app}/${person}.yaml`;
    const what = [...(grant.permissions ?? []), ...(license !== undefined ? [license] : [])];
    const subject = `grant: ${person} → ${app} (${what.join(', ')})${start !== undefined && start !== 'now' ? ` from ${start}` : ''}${end !== undefined ? ` until ${end}` : ''}`;
    return submit(ws, options, io, ask, {
      action: 'grant',
      changes: new Map([[file, grantText(grant)]]),
      subject,
      branch: `grant/${app}/${person}`,
      describe: describeGrant(ws, grant),
    });
  }, io);
}

export async function runChange(options: ChangeOptions, io: Io): Promise<number> {
  return guard(async () => {
    const { ws, app, person, file, current } = await held(options, io);
    if (!current)
      throw new OperatorError(
        `${person} has no grant for ${app} (${file} does not exist): give access with iden grant --app ${app} --user ${person}`,
      );
    windowOf(ws, options.start, options.end === false ? undefined : options.end);
    if (!current.value)
      throw new OperatorError(`${file} does not validate: run iden validate and fix it first`);
    const was = current.value;
    const entry = ws.repo.apps.get(app)!.value!;
    const ask = await prompter(options, io);

    let edit: ChangeEdit = {
      add: options.addPermission ?? [],
      remove: options.removePermission ?? [],
      ...(options.license !== undefined ? { license: options.license } : {}),
      ...(options.start !== undefined ? { start: options.start === 'now' ? null : options.start } : {}),
      ...(options.end === false ? { end: null } : options.end !== undefined ? { end: options.end } : {}),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    };
    const flagged =
      edit.add.length + edit.remove.length > 0 ||
      ['license', 'start', 'end', 'reason'].some((k) => k in edit);
    if (!flagged) {
      if (!ask)
        throw new UsageError(
          'nothing to change: give --add-permission, --remove-permission, --license, --start, --end, --no-end or --reason',
        );
      edit = await askChange(ask, ws, entry, was, file);
    }
    for (const id of edit.remove)
      if (!(was.permissions ?? []).includes(id))
        throw new UsageError(
          `--remove-permission ${id}: ${person} does not hold it in ${app} (${(was.permissions ?? []).join(', ') || 'no permissions'})`,
        );
    const { text, grant, changes } = editFor(ws.repo.tree, current.source, was, edit);
    if (changes.length === 0) throw new UsageError(`nothing to change: ${file} already says that`);
    return submit(ws, options, io, ask, {
      action: 'change',
      changes: new Map([[file, text]]),
      subject: `change: ${person} → ${app} (${changes.join(', ')})`,
      branch: `change/${app}/${person}`,
      describe: [
        `Change ${describePerson(ws, person)}'s access to ${appName(ws, app)}: ${changes.join(', ')}`,
        ...describeGrant(ws, grant).slice(1),
      ],
    });
  }, io);
}

export async function runRevoke(options: RevokeOptions, io: Io): Promise<number> {
  return guard(async () => {
    const { ws, app, person, file, current } = await held(options, io);
    if (!current)
      throw new OperatorError(`${person} has no grant for ${app}: ${file} does not exist; nothing to revoke`);
    const ask = await prompter(options, io);
    let reason = options.reason;
    if (reason === undefined && ask) reason = await askReason(ask, undefined);
    return submit(ws, options, io, ask, {
      action: 'revoke',
      changes: new Map([[file, null]]),
      subject: `revoke: ${person} from ${app}`,
      branch: `revoke/${app}/${person}`,
      describe: [
        `Revoke ${describePerson(ws, person)}'s access to ${appName(ws, app)}: delete ${file}`,
        ...(reason ? [`  reason: ${reason}`] : []),
      ],
    });
  }, io);
}

export async function runOffboard(options: OffboardOptions, io: Io): Promise<number> {
  return guard(async () => {
    const ws = await open(options, io);
    const person = personOrFail(ws, options.user);
    const files = [...ws.repo.apps.keys()]
      .filter((app) => holders(ws, app).has(person))
      .map((app) => `grants/${app}/${person}.yaml`);
    const changes = new Map<string, string | null>(files.map((f) => [f, null]));
    const policyFiles = options.removePerson ? offboardChanges(ws.repo, person) : new Map();
    for (const [path, text] of policyFiles) changes.set(path, text);
    if (changes.size === 0)
      throw new OperatorError(
        `${person} holds no grant: nothing to offboard (--remove-person also removes them from _people.yaml)`,
      );
    const ask = await prompter(options, io);
    let reason = options.reason;
    if (reason === undefined && ask) reason = await askReason(ask, undefined);
    const apps = files.map((f) => f.split('/')[1]!);
    return submit(ws, options, io, ask, {
      action: 'offboard',
      changes,
      subject: `offboard: ${person}${apps.length > 0 ? ` from ${apps.join(', ')}` : ''}${options.removePerson ? '; removed from _people.yaml' : ''}`,
      branch: `offboard/${person}`,
      describe: [
        `Offboard ${describePerson(ws, person)}:`,
        ...files.map((f) => `  delete ${f}`),
        ...[...policyFiles.keys()].map(
          (f) =>
            `  remove ${person} from ${f}${f === 'grants/_people.yaml' ? '' : ' (roles, approvers)'}: a policy change`,
        ),
        ...(reason ? [`  reason: ${reason}`] : []),
      ],
    });
  }, io);
}

// ---------------------------------------------------------------- the repository

async function open(options: Common, io: Io): Promise<Workspace> {
  const root = await repositoryRoot(io.cwd, options.repo);
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
  return {
    root,
    head,
    tree,
    repo,
    zone: zoneOf(repo),
    people,
    now: io.clock.now(),
    memo,
    focused: [],
    names,
  };
}

/** The repository with the grant files of these app folders ('all': every one). */
function loadScope(
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
async function focus(ws: Workspace, folders: readonly string[]): Promise<void> {
  ws.tree = await CommitTree.openSome(ws.root, ws.head, folders);
  ws.repo = await loadScope(ws.tree, folders, ws.memo);
  ws.focused = [...folders];
}

/** The repository, and the grant file of --app and --user (undefined when there is none). */
async function held(options: Common & { app: string; user: string }, io: Io) {
  const ws = await open(options, io);
  const app = appOrFail(ws, options.app);
  const person = personOrFail(ws, options.user);
  const file = `grants/${app}/${person}.yaml`;
  await focus(ws, [app]);
  return { ws, app, person, file, current: ws.repo.grants.find((g) => g.file === file) };
}

function appOrFail(ws: Workspace, id: string): string {
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
function personOrFail(ws: Workspace, text: string): string {
  const key = text.toLowerCase();
  const person = ws.people.find((p) => p.id === key || p.email.toLowerCase() === key);
  if (!person) throw new UsageError(`--user ${text}: no person of that id or email in grants/_people.yaml`);
  return person.id;
}

/** Whose grant file for the app exists (active, scheduled, or ended and not yet cleaned up). */
function holders(ws: Workspace, app: string): Set<string> {
  return ws.names.get(app) ?? new Set();
}

function refuseHolder(ws: Workspace, app: string, person: string): void {
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

// ---------------------------------------------------------------- prompts

async function prompter(options: Common, io: Io): Promise<Inquirer | undefined> {
  if (options.yes || !io.interactive) return undefined;
  const inquirer = await import('@inquirer/prompts');
  if (options.format !== 'json') return inquirer;
  // With --format json, stdout carries the result alone: the questions go to stderr.
  const context = { output: process.stderr };
  return {
    ...inquirer,
    select: (config, ctx) => inquirer.select(config, { ...context, ...ctx }),
    search: (config, ctx) => inquirer.search(config, { ...context, ...ctx }),
    checkbox: (config, ctx) => inquirer.checkbox(config, { ...context, ...ctx }),
    input: (config, ctx) => inquirer.input(config, { ...context, ...ctx }),
    confirm: (config, ctx) => inquirer.confirm(config, { ...context, ...ctx }),
  } as Inquirer;
}

const missing = (flag: string, allowed: string[]) =>
  new UsageError(
    `${flag} is required without a terminal${allowed.length > 0 ? ` (one of ${allowed.join(', ')})` : ''}`,
  );

async function pickApp(
  ws: Workspace,
  ask: Inquirer | undefined,
  flag: string,
  person?: string,
): Promise<string> {
  if (!ask) throw missing(flag, [...ws.repo.apps.keys()]);
  const apps = [...ws.repo.apps.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (apps.length === 0)
    throw new OperatorError('the repository has no apps: add grants/<app>/_app.yaml first');
  if (person !== undefined && apps.every((a) => holders(ws, a.id).has(person)))
    throw new OperatorError(
      `${person} has a grant for every app already: change one with iden change --app <app> --user ${person}`,
    );
  return ask.select({
    message: person ? `Which app should ${person} get access to?` : 'Which app?',
    pageSize: 12,
    choices: apps.map((a) => {
      const held = person !== undefined && holders(ws, a.id).has(person);
      return {
        value: a.id,
        name: `${a.value?.name ?? a.id} (${a.id})`,
        short: a.id,
        ...(a.value?.connector ? { description: `${a.value.connector.type} app` } : {}),
        ...(held
          ? { disabled: `already has access: iden change --app ${a.id} --user ${person}` }
          : !a.value
            ? { disabled: 'does not validate' }
            : {}),
      };
    }),
  });
}

async function pickPerson(
  ws: Workspace,
  ask: Inquirer | undefined,
  app: string,
  people: Map<string, Person>,
  say: (text: string) => void,
): Promise<string> {
  if (!ask) throw missing('--user', []);
  const taken = holders(ws, app);
  const left = ws.people.filter((p) => taken.has(p.id)).length;
  if (left > 0)
    say(
      `${left} ${left === 1 ? 'person already has' : 'people already have'} access to ${app} and ${left === 1 ? 'is' : 'are'} not offered; iden change --app ${app} --user <id> edits their access.\n`,
    );
  const offered = ws.people.filter((p) => !taken.has(p.id));
  if (offered.length === 0)
    throw new OperatorError(
      `everyone in grants/_people.yaml has access to ${app} already: add the person first, or change someone's access with iden change`,
    );
  return ask.search({
    message: `Who should get access to ${appName(ws, app)}? (search by name, email or id)`,
    pageSize: 10,
    source: (term) => {
      const t = (term ?? '').trim().toLowerCase();
      return offered
        .filter(
          (p) =>
            t === '' ||
            p.name.toLowerCase().includes(t) ||
            p.email.toLowerCase().includes(t) ||
            p.id.includes(t),
        )
        .slice(0, 50)
        .map((p) => ({
          value: p.id,
          name: `${p.name} <${p.email}>`,
          short: `${p.name} (${p.id})`,
          description: `id ${p.id}`,
        }));
    },
    validate: (id) => (people.has(id) ? true : 'pick a person'),
  });
}

type AppValue = NonNullable<AccessRepo['apps'] extends Map<string, infer E> ? E : never>['value'] & object;

async function pickPermissions(
  ask: Inquirer,
  app: AppValue,
  checked: string[],
  required: boolean,
): Promise<string[]> {
  const kinds = ['group', 'role', 'permission', 'app', 'app-role', 'permission-set'] as const;
  const choices: (
    | InstanceType<Inquirer['Separator']>
    | { value: string; name: string; short: string; checked: boolean }
  )[] = [];
  for (const kind of kinds) {
    const of = app.entitlements.filter((e) => e.kind === kind);
    if (of.length === 0) continue;
    choices.push(new ask.Separator(`── ${kind}s ──`));
    for (const e of of)
      choices.push({
        value: e.id,
        name: e.description ? `${e.id}: ${e.description}` : e.id,
        short: e.id,
        checked: checked.includes(e.id),
      });
  }
  return (await ask.checkbox({
    message: 'Which groups, roles or permissions? (space picks, enter confirms)',
    choices,
    required,
    pageSize: 15,
  })) as string[];
}

async function pickSchedule(ask: Inquirer, ws: Workspace): Promise<{ start?: string; end?: string }> {
  const when = await ask.select({
    message: 'When?',
    choices: [
      { value: 'now', name: 'Right now', description: 'as soon as the pull request is merged and applied' },
      { value: 'custom', name: 'Custom', description: `a start date, and an optional end (${ws.zone})` },
    ],
  });
  if (when === 'now') {
    const end = await askEnd(ask, ws, ws.now, undefined);
    return end ? { end } : {};
  }
  const start = await ask.input({
    message: `Start, ${ws.zone} (a date like ${DateTime.fromMillis(ws.now + 86_400_000, { zone: ws.zone }).toISODate()}, or a date-time with an offset)`,
    validate: (text) => {
      const parsed = parseTime(text.trim(), ws.zone);
      return parsed.ok ? true : parsed.message;
    },
  });
  const from = (parseTime(start.trim(), ws.zone) as { at: Instant }).at;
  const end = await askEnd(ask, ws, from, undefined);
  return { start: start.trim(), ...(end ? { end } : {}) };
}

/** An optional end: a date, a date-time, or a duration from the start (90d); empty for none. */
async function askEnd(
  ask: Inquirer,
  ws: Workspace,
  from: Instant,
  current: string | undefined,
): Promise<string | undefined> {
  const text = await ask.input({
    message: `End, ${ws.zone} (a date, or a duration like 90d; empty: no end)`,
    ...(current !== undefined ? { default: current } : {}),
    validate: (value) => {
      const v = value.trim();
      if (v === '') return true;
      const at = endInstant(v, ws.zone, from);
      if (typeof at === 'string') return at;
      return at > Math.max(from, ws.now) ? true : 'the end must come after the start and after now';
    },
  });
  const v = text.trim();
  if (v === '') return undefined;
  const duration = parseDuration(v);
  if (duration === undefined) return v;
  return humanTime(from + duration, ws.zone);
}

function endInstant(text: string, zone: string, from: Instant): Instant | string {
  const duration = parseDuration(text);
  if (duration !== undefined) return from + duration;
  const parsed = parseTime(text, zone);
  return parsed.ok ? parsed.at : parsed.message;
}

/** A tier, seeing the seats each has; the current one (a change) can always be kept. */
async function pickTier(
  ask: Inquirer,
  ws: Workspace,
  choices: TierChoice[],
  current?: string,
): Promise<string> {
  if (current === undefined && choices.every((c) => c.full))
    throw new OperatorError(
      `every license tier is full for that window (${choices.map((c) => `${c.tier}${c.nextFree !== undefined ? `: a seat frees up ${humanTime(c.nextFree, ws.zone)}` : ''}`).join('; ')}): start later, or end another grant first; nothing was changed`,
    );
  return ask.select({
    message: 'Which license tier?',
    ...(current !== undefined ? { default: current } : {}),
    choices: choices.map((c) => ({
      value: c.tier,
      name:
        c.tier === current
          ? `${c.tier}  ${seatText(c)} (current)`
          : `${c.tier}  ${c.full ? `${c.used} of ${c.seats} seats used` : seatText(c)}`,
      short: c.tier,
      ...(c.description ? { description: c.description } : {}),
      ...(c.full && c.tier !== current
        ? {
            disabled: `(full${c.nextFree !== undefined ? `: a seat frees up ${humanTime(c.nextFree, ws.zone)}` : ' for that window'})`,
          }
        : {}),
    })),
  });
}

function seatText(c: TierChoice): string {
  if (c.seats === undefined) return `${c.used} used, no seat limit`;
  return `${c.used} of ${c.seats} seats used, ${Math.max(0, c.seats - c.used)} free`;
}

async function askReason(ask: Inquirer, current: string | undefined): Promise<string | undefined> {
  const text = await ask.input({
    message: 'Reason (a ticket or a sentence, for the pull request and the audit trail)',
    ...(current !== undefined ? { default: current } : {}),
  });
  return text.trim() || undefined;
}

async function askChange(
  ask: Inquirer,
  ws: Workspace,
  app: AppValue,
  was: GrantFile,
  file: string,
): Promise<ChangeEdit> {
  const before = was.permissions ?? [];
  const permissions =
    app.entitlements.length > 0
      ? await pickPermissions(ask, app, before, (app.licenses ?? []).length === 0)
      : before;
  const edit: ChangeEdit = {
    add: permissions.filter((p) => !before.includes(p)),
    remove: before.filter((p) => !permissions.includes(p)),
  };
  const window = grantWindow(was, ws.zone);
  // The part of the grant still to come: seats are counted, and the end asked, from there.
  const from = Math.max(window?.start ?? ws.now, ws.now);
  if ((app.licenses ?? []).length > 0) {
    const choices = tierChoices(ws.repo, ws.zone, was.app, from, window?.end, file);
    const license = await pickTier(ask, ws, choices, was.license);
    if (license !== was.license) edit.license = license;
  }
  const end = await askEnd(ask, ws, from, was.end);
  if (end !== was.end) edit.end = end ?? null;
  const reason = await askReason(ask, was.reason);
  if (reason !== was.reason) edit.reason = reason ?? null;
  return edit;
}

// ---------------------------------------------------------------- submitting

async function submit(
  ws: Workspace,
  options: Common,
  io: Io,
  ask: Inquirer | undefined,
  proposal: Proposal,
): Promise<number> {
  const out = options.format === 'json' ? io.stderr : io.stdout;

  // Nothing bad is written: the repository as it would be, validated before anything is written.
  // A change to grant files is validated with its apps' folders and every other file but other
  // apps' grants (as check-pr does); a change to people, settings or apps with every file.
  const touched = new Set(proposal.changes.keys());
  const grantFolders = [...touched].flatMap((p) => GRANT_PATH.exec(p)?.[1] ?? []);
  const scope = [...touched].some((p) => !GRANT_PATH.test(p)) ? 'all' : [...new Set(grantFolders)];
  const same =
    scope !== 'all' && scope.length === ws.focused.length && scope.every((f) => ws.focused.includes(f));
  if (!same)
    ws.tree =
      scope === 'all'
        ? await CommitTree.open(ws.root, ws.head)
        : await CommitTree.openSome(ws.root, ws.head, scope);
  const base = same ? ws.repo : await loadScope(ws.tree, scope, ws.memo);
  const after = await loadScope(new OverlayTree(ws.tree, proposal.changes), scope, ws.memo);
  const before = new Set(validateRepo(base, ws.now).diagnostics.map(key));
  const found = validateRepo(after, ws.now, { blame: touched }).diagnostics.filter(
    (d) => touched.has(d.file) || (d.severity === 'error' && !before.has(key(d))),
  );
  if (found.some((d) => d.severity === 'error')) {
    io.stderr(formatDiagnostics(found, 'text'));
    io.stderr(`iden: ${proposal.action}: the change would not validate; nothing was written\n`);
    return EXIT.failed;
  }
  if (found.length > 0) io.stderr(formatDiagnostics(found, 'text'));

  const branch = options.branch ?? proposal.branch;
  if (!(await validBranchName(ws.root, branch)))
    throw new UsageError(`--branch ${branch}: not a name git takes for a branch`);
  if (await branchExists(ws.root, branch))
    throw new OperatorError(
      `a branch named ${branch} exists already: merge or delete it (git branch -D ${branch}), or pass --branch; nothing was changed`,
    );
  const into = (await currentBranch(ws.root)) ?? ws.repo.settings?.value?.policy?.branch;
  const remote = options.pr ? await pushRemote(ws.root) : undefined;
  if (options.pr && !into)
    throw new OperatorError(
      'HEAD is detached: check out the branch the pull request should merge into, or pass --no-pr; nothing was changed',
    );
  if (remote && (await remoteHasBranch(ws.root, remote, branch)))
    throw new OperatorError(
      `${remote.name} already has a branch named ${branch}: pass --branch, or delete it there; nothing was changed`,
    );

  const github = options.pr ? await gitHub(io, remote) : undefined;
  const judged = await judge(ws, base, options, io, proposal, after, github?.ctx);

  out(`${summary(ws, proposal, judged, branch, into, options.pr)}\n`);
  if (!options.yes) {
    if (!ask)
      throw new UsageError(
        `${proposal.action} writes a commit${options.pr ? ' and opens a pull request' : ''}: pass --yes to do it without a terminal`,
      );
    const go = await ask.confirm({
      message: options.pr ? 'Commit it and open the pull request?' : 'Commit it on the branch?',
      default: true,
    });
    if (!go) {
      out('Nothing was changed.\n');
      return EXIT.failed;
    }
  }

  const commit = await commitOnNewBranch(ws.root, {
    from: ws.head,
    branch,
    changes: proposal.changes,
    message: `${oneLine(proposal.subject)}\n\n${proposal.describe.map(oneLine).join('\n')}\n`,
  });
  const result: ActionResult = {
    action: proposal.action,
    files: [...proposal.changes.keys()],
    branch,
    commit,
    classification: judged.classification,
    approvers: judged.approvers,
    policy: judged.policy,
  };
  const done = (code: number) => {
    if (options.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return code;
  };
  out(`Committed ${commit.slice(0, 12)} on ${branch} (${into ?? 'HEAD'} is still checked out).\n`);
  if (!options.pr) return done(EXIT.ok);

  if (!remote) {
    out(
      `No remote to push ${branch} to: add one (git remote add origin …), push the branch and open the pull request.\n`,
    );
    return done(EXIT.ok);
  }
  const pushed = await pushBranch(ws.root, remote.name, branch);
  if (pushed) {
    io.stderr(
      `iden: could not push ${branch} to ${remote.name}: ${pushed}; the branch is made here: push it (git push ${remote.name} ${branch}) and open the pull request\n`,
    );
    return done(EXIT.failed);
  }
  out(`Pushed ${branch} to ${remote.name}.\n`);
  if (!github?.ctx) {
    const where = github?.repository
      ? compareUrl(github, into!, branch)
      : `the branch ${branch} into ${into}`;
    const why = io.env.GITHUB_TOKEN
      ? 'GITHUB_TOKEN is set, but which GitHub repository origin is could not be told (set GITHUB_REPOSITORY=owner/name)'
      : 'No GITHUB_TOKEN';
    out(`${why}: open the pull request by hand: ${where}\n`);
    return done(EXIT.ok);
  }
  const { openPull, requestReviewers } = await import('../github/client.js');
  let pull: { number: number; url: string };
  try {
    pull = await openPull(github.ctx, {
      head: branch,
      base: into!,
      title: oneLine(proposal.subject),
      body: pullBody(ws, proposal, judged),
    });
  } catch (e) {
    io.stderr(
      `iden: ${(e as Error).message}; ${branch} is pushed to ${remote.name}: open the pull request by hand${github.repository ? ` (${compareUrl(github, into!, branch)})` : ''}\n`,
    );
    return done(EXIT.failed);
  }
  result.pr = pull;
  out(`Opened pull request #${pull.number}: ${pull.url}\n`);
  if (judged.reviewers.length > 0) {
    const refused = await requestReviewers(github.ctx, pull.number, judged.reviewers);
    out(
      refused
        ? `Could not request reviews from ${judged.reviewers.join(', ')}: ${refused}; ask them yourself.\n`
        : `Requested reviews from ${judged.reviewers.join(', ')}.\n`,
    );
  }
  return done(EXIT.ok);
}

interface Judgement {
  classification: ActionResult['classification'];
  /** Person ids who can approve. */
  approvers: string[];
  /** GitHub logins to ask for a review. */
  reviewers: string[];
  policy: boolean;
  /** One line per file: what check-pr will decide. */
  lines: string[];
  /** Who iden took you to be, and from where; empty when it cannot tell. */
  author: string;
}

/** Who is opening it, then the policy's verdict on each file as check-pr will give it. */
async function judge(
  ws: Workspace,
  before: AccessRepo,
  options: Common,
  io: Io,
  proposal: Proposal,
  after: AccessRepo,
  ctx: import('../github/client.js').PullContext | undefined,
): Promise<Judgement> {
  const policy = basePolicy(ws.repo);
  const logins: string[] = [];
  let author = '';
  if (ctx) {
    const { tokenUser } = await import('../github/client.js');
    const login = await tokenUser(ctx);
    if (login) {
      logins.push(login);
      author = `${login} (the token's user)`;
      if (options.as && options.as.toLowerCase() !== login.toLowerCase())
        io.stderr(
          `notice: the pull request is opened as ${login}, the token's user, not --as ${options.as}\n`,
        );
    }
  }
  if (logins.length === 0 && options.as) {
    logins.push(options.as);
    author = `${options.as} (--as)`;
  }
  // The commit is the configured git user's: check-pr counts its author too.
  const email = (await gitConfig(ws.root, 'user.email')).toLowerCase();
  const committer = ws.people.find((p) => email !== '' && p.email.toLowerCase() === email);
  const committerLogin = committer && policy.loginOf.get(committer.id);
  if (committerLogin && !logins.some((l) => l.toLowerCase() === committerLogin.toLowerCase())) {
    logins.push(committerLogin);
    if (!author) author = `${committerLogin} (git config user.email ${email})`;
  }
  const unknown =
    logins.length === 0
      ? ['iden cannot tell who you are on GitHub: pass --as LOGIN, or set GITHUB_TOKEN']
      : [];
  const changed: RawChange[] = [...proposal.changes].map(([path, content]) => {
    const existed = ws.tree.kind(path) !== undefined;
    return {
      status: content === null ? 'D' : existed ? 'M' : 'A',
      path,
      oldMode: existed ? '100644' : '',
      newMode: content === null ? '' : '100644',
    };
  });
  const [first, ...others] = logins;
  const verdicts = judgeChange({
    policy: ws.repo,
    before,
    after,
    changed,
    pull: {
      ...(first !== undefined ? { author: { login: first } } : {}),
      head: ws.head,
      commits: [],
      reviews: [],
      named: others,
      unknown,
    },
    revoked: await recentRevocations(ws.root, ws.head, ws.now, ws.zone),
  });
  const needs = verdicts.filter((v) => !v.ok);
  const approvers = [...new Set(needs.flatMap((v) => v.approvers))].sort();
  const me = new Set(logins.map((l) => l.toLowerCase()));
  // Review requests go to the app's own approvers; Super Admins only where no app approver can approve.
  const asked = new Set<string>();
  for (const v of needs) {
    const app = GRANT_PATH.exec(v.file)?.[1];
    const own =
      app && v.classification !== 'policy'
        ? v.approvers.filter((id) => policy.approvers.get(app)?.has(id))
        : [];
    for (const id of own.length > 0 ? own : v.approvers) asked.add(id);
  }
  const reviewers = [...asked]
    .sort()
    .map((id) => policy.loginOf.get(id))
    .filter((l): l is string => l !== undefined && !me.has(l.toLowerCase()));
  const grants = verdicts.filter((v) => GRANT_PATH.test(v.file) && v.classification !== 'policy');
  const classification = overall(proposal.action, grants, needs.length > 0);
  return {
    classification,
    approvers,
    reviewers,
    policy: verdicts.some((v) => v.classification === 'policy'),
    lines: verdicts.map((v) => `${v.file}: ${verdictLine(v)}`),
    author,
  };
}

function overall(
  action: Action,
  grants: FileVerdict[],
  needsApproval: boolean,
): ActionResult['classification'] {
  if (action === 'grant')
    return grants[0]?.classification === 'direct-grant' ? 'direct-grant' : 'access-request';
  if (action === 'change') return 'change';
  return needsApproval ? 'revocation-request' : 'revocation';
}

/** What check-pr will say of the file, without the commit it does not know yet. */
function verdictLine(v: FileVerdict): string {
  if (v.ok) return v.reason;
  const label: Record<string, string> = {
    'access-request': 'access request',
    change: 'a change to existing access',
    'revocation-request': 'revocation request',
    policy: 'a policy change',
  };
  const what = label[v.classification] ?? v.classification;
  return v.approvers.length > 0
    ? `${what}: needs an approval from ${orList([...v.approvers].sort())}`
    : `${what}: ${v.reason.replace(/^[^:]*: /, '')}`;
}

/** GitHub's page that opens a pull request from the branch. */
function compareUrl(github: { web: string; repository?: string }, base: string, branch: string): string {
  return `${github.web}/${github.repository}/compare/${encodeURIComponent(base)}...${encodeURIComponent(branch)}?expand=1`;
}

async function gitHub(
  io: Io,
  remote: { name: string; url: string; push: string } | undefined,
): Promise<{ ctx?: import('../github/client.js').PullContext; repository?: string; web: string }> {
  const repository =
    (/^[^/\s]+\/[^/\s]+$/.test(io.env.GITHUB_REPOSITORY ?? '') ? io.env.GITHUB_REPOSITORY : undefined) ??
    (remote ? repositoryFromUrl(remote.url) : undefined);
  const api = io.env.GITHUB_API_URL;
  // The web address: GitHub Actions says it; else from the API's (api.github.com, or …/api/v3 on Enterprise Server).
  const web =
    io.env.GITHUB_SERVER_URL ??
    (api
      ? api
          .replace(/\/api\/v3\/?$/, '')
          .replace(/^(https?:\/\/)api\./, '$1')
          .replace(/\/$/, '')
      : 'https://github.com');
  if (!io.env.GITHUB_TOKEN || !repository) return { ...(repository ? { repository } : {}), web };
  const { repoContext } = await import('../github/client.js');
  return { ctx: repoContext(io.env, repository), repository, web };
}

// ---------------------------------------------------------------- words

function summary(
  ws: Workspace,
  proposal: Proposal,
  judged: Judgement,
  branch: string,
  base: string | undefined,
  pr: boolean,
): string {
  const lines = [...proposal.describe, ''];
  for (const [path, content] of proposal.changes) {
    if (content === null) lines.push(`delete ${path}`);
    else if (GRANT_PATH.test(path)) {
      lines.push(`${ws.tree.kind(path) ? 'edit' : 'write'} ${path}:`);
      lines.push(
        ...content
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
    } else lines.push(`edit ${path}`);
  }
  lines.push(
    '',
    judged.author
      ? `As ${judged.author}, the policy check will say:`
      : 'Not knowing your GitHub login (pass --as LOGIN, or set GITHUB_TOKEN), the policy check will say:',
  );
  lines.push(...judged.lines.map((l) => `  ${l}`));
  lines.push(
    '',
    `Branch ${branch} from ${ws.head.slice(0, 12)}${pr ? `, then a pull request into ${base ?? '(no branch)'}` : ' (no pull request: --no-pr)'}.`,
  );
  return lines.join('\n');
}

function pullBody(ws: Workspace, proposal: Proposal, judged: Judgement): string {
  const classification: Record<ActionResult['classification'], string> = {
    'direct-grant': 'direct grant',
    'access-request': 'access request',
    change: 'change to existing access',
    revocation: 'revocation',
    'revocation-request': 'revocation request',
  };
  // Names, emails and reasons are what people typed: escaped, they render as themselves and nothing more.
  return [
    ...proposal.describe.map((l, i) =>
      i === 0 ? `**${escapeMarkdown(l)}**` : `- ${escapeMarkdown(l.replace(/^ {2}/, ''))}`,
    ),
    '',
    `**Policy** (${classification[judged.classification]}${judged.policy ? ', with a policy change' : ''}): what \`iden check-pr\` will decide, as iden sees it now:`,
    ...judged.lines.map((l) => `- ${escapeMarkdown(l)}`),
    '',
    `Files: ${[...proposal.changes.keys()].map((f) => `\`${f}\``).join(', ')}. Dates are in ${ws.zone}.`,
    '',
    `_Opened with \`iden ${proposal.action}\`._`,
  ].join('\n');
}

function describeGrant(ws: Workspace, grant: GrantFile): string[] {
  const window = grantWindow(grant, ws.zone);
  return [
    `Grant ${describePerson(ws, grant.user)} access to ${appName(ws, grant.app)}`,
    `  permissions: ${(grant.permissions ?? []).join(', ') || 'none'}`,
    ...(grant.license !== undefined ? [`  license: ${grant.license}`] : []),
    `  from: ${window?.start !== undefined ? `${humanTime(window.start, ws.zone)} (${ws.zone})` : 'right now (when applied)'}`,
    `  until: ${window?.end !== undefined ? `${humanTime(window.end, ws.zone)} (${ws.zone})` : 'no end'}`,
    ...(grant.reason ? [`  reason: ${grant.reason}`] : []),
  ];
}

/** A person as the summary names them: name, id and email. */
function describePerson(ws: Workspace, id: string): string {
  const p = ws.people.find((person) => person.id === id);
  return p ? `${p.name} (${p.id}, ${p.email})` : id;
}
const appName = (ws: Workspace, app: string) => `${ws.repo.apps.get(app)?.value?.name ?? app} (${app})`;

function windowOf(
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

function key(d: Diagnostic): string {
  return `${d.file}\u0000${d.code}\u0000${d.message}`;
}

function shortList(items: string[]): string {
  return items.length <= 3
    ? items.join(', ')
    : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}

/**
 * Text people typed, as one line of a commit message or title: no line
 * breaks or control characters, so a reason cannot add a trailer
 * (Co-authored-by:), a subject line or a fake "Merge pull request" line.
 */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trimEnd();
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** Turns a Ctrl-C in a prompt into "nothing was changed". */
async function guard(run: () => Promise<number>, io: Io): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if ((e as Error)?.name === 'ExitPromptError') {
      io.stderr('iden: cancelled; nothing was changed\n');
      return EXIT.failed;
    }
    throw e;
  }
}
