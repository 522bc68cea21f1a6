import { reviewSource } from '../audit/approvals.js';
import { auditAsOf, auditEvents, readAudit } from '../audit/audit.js';
import { reviewRows } from '../audit/review.js';
import { resolveRef } from '../git/diff.js';
import { repositoryRoot } from '../git/state.js';
import { CommitTree } from '../git/tree.js';
import { loadRepo, loadTree } from '../load/repo.js';
import { atOption } from '../model/instant.js';
import { lookupApp, lookupPerson } from '../model/lookup.js';
import { type AccessRepo, peopleById } from '../model/repo.js';
import {
  type AuditFormat,
  formatAccess,
  formatEvents,
  formatReview,
  formatWarnings,
} from '../report/audit.js';
import { EXIT, type Io, UsageError } from './io.js';

export interface AuditOptions {
  repo?: string;
  user?: string;
  app?: string;
  since?: string;
  until?: string;
  asOf?: string;
  review?: boolean;
  format: AuditFormat;
}

/** Warnings that mean the records were tampered with: the audit still answers, and exits 1. */
const TAMPERED = new Set([
  'record-edited',
  'record-moved',
  'record-forged',
  'record-missing',
  'record-unsigned',
]);

export async function runAudit(options: AuditOptions, io: Io): Promise<number> {
  const root = await repositoryRoot(io.cwd, options.repo);
  if (options.review && (options.user || options.since || options.until))
    throw new UsageError('--review takes --app, --as-of and --format; not --user, --since or --until');
  // People and apps are read only where the question names them (they resolve --user and --app).
  const repo = await headRepo(
    root,
    options.review === true || options.user !== undefined,
    options.app !== undefined,
  );
  const now = io.clock.now();
  const signedSince = repo.settings?.value?.records?.signedSince;
  const data = await readAudit(root, io.env, now, signedSince ? Date.parse(signedSince) : undefined);
  options = { ...options, ...filters(options, repo, data.history.commits) };
  const source = await reviewSource(root, io.env);
  const review = { source, env: io.env };
  let out: string;
  if (options.review) {
    const at = options.asOf === undefined ? now : atOption(options.asOf, repo, now, '--as-of');
    const view = await auditAsOf(root, data, at, options.app);
    const keys = new Set(view.intended.map((i) => `${i.commit}\u0000${i.file}`));
    const events = await auditEvents(
      root,
      data,
      { app: options.app, now, until: at + 1 },
      review,
      (e) => keys.has(`${e.commit}\u0000${e.file}`) || e.kind === 'drift-removed' || e.kind === 'reviewed',
    );
    out = formatReview(
      view.asOf,
      reviewRows(view, events, people(repo)),
      data.source,
      data.warnings,
      options.format,
    );
  } else if (options.asOf !== undefined) {
    if (options.since || options.until)
      throw new UsageError('--as-of answers one instant: not with --since or --until');
    const view = await auditAsOf(root, data, atOption(options.asOf, repo, now, '--as-of'), options.app);
    const mine = <T extends { user: string }>(list: T[]) =>
      options.user === undefined ? list : list.filter((x) => x.user === options.user);
    out = formatAccess(
      {
        ...view,
        access: mine(view.access),
        unexpected: mine(view.unexpected),
        intended: mine(view.intended),
      },
      data.source,
      data.warnings,
      options.format,
    );
  } else {
    const events = await auditEvents(
      root,
      data,
      {
        user: options.user,
        app: options.app,
        since: options.since === undefined ? undefined : atOption(options.since, repo, now, '--since'),
        until: options.until === undefined ? undefined : atOption(options.until, repo, now, '--until'),
        now,
      },
      review,
    );
    out = formatEvents(events, data.source, data.warnings, options.format);
  }
  io.stdout(out);
  if (options.format !== 'json') io.stderr(formatWarnings(data.warnings));
  return data.warnings.some((w) => TAMPERED.has(w.code)) ? EXIT.failed : EXIT.ok;
}

/**
 * --user and --app as every command reads them (a person by id or email, any
 * case), and also as the history knows them (people and apps since removed):
 * an unknown value is exit 2 with a did-you-mean, never an empty history.
 */
function filters(
  options: AuditOptions,
  repo: AccessRepo,
  commits: readonly { files: readonly { path: string }[] }[],
): { user?: string; app?: string } {
  const formerUsers = new Set<string>();
  const apps = new Set(repo.apps.keys());
  for (const commit of commits)
    for (const { path } of commit.files) {
      const m = /^grants\/([^/]+)\/([^/]+)\.yaml$/.exec(path);
      if (!m || m[2]!.startsWith('_')) continue;
      apps.add(m[1]!);
      formerUsers.add(m[2]!);
    }
  const out: { user?: string; app?: string } = {};
  if (options.user !== undefined) {
    const found = lookupPerson(
      options.user,
      [...peopleById(repo).values()],
      formerUsers,
      'grants/_people.yaml or the history of grants/',
    );
    if ('unknown' in found) throw new UsageError(found.unknown);
    out.user = found.id;
  }
  if (options.app !== undefined) {
    const found = lookupApp(options.app, apps, 'grants/ or its history');
    if ('unknown' in found) throw new UsageError(found.unknown);
    out.app = found.id;
  }
  return out;
}

/** The settings and people as HEAD has them (no grant files): the time zone for dates, names for logins. */
async function headRepo(root: string, withPeople: boolean, withApps: boolean): Promise<AccessRepo> {
  const head = await resolveRef(root, 'HEAD');
  if (!head) return loadRepo(root);
  return loadTree(await CommitTree.open(root, head), {
    grants: () => false,
    apps: withApps,
    people: withPeople,
  });
}

/** GitHub logins to person ids, and person ids to names, from _people.yaml. */
function people(repo: AccessRepo): { loginToPerson: Map<string, string>; names: Map<string, string> } {
  const loginToPerson = new Map<string, string>();
  const names = new Map<string, string>();
  const list = repo.people?.raw?.people;
  for (const p of Array.isArray(list) ? list : []) {
    const person = p as { id?: unknown; name?: unknown; accounts?: { github?: unknown } };
    if (typeof person.id !== 'string') continue;
    if (typeof person.name === 'string') names.set(person.id, person.name);
    const login = person.accounts?.github;
    if (typeof login === 'string') loginToPerson.set(login.toLowerCase(), person.id);
  }
  return { loginToPerson, names };
}
