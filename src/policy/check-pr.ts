import type { Diagnostic } from '../diagnostics.js';
import { changedPaths, mergeBase, resolveRef } from '../git/diff.js';
import { CommitTree } from '../git/tree.js';
import { loadTree } from '../load/repo.js';
import { target } from '../model/access.js';
import type { AccessRepo, GrantEntry } from '../model/repo.js';
import { humanTime, type Instant, isoUtc, zoneOf } from '../model/time.js';
import { grantWindow, isActive } from '../model/window.js';
import { validateRepo } from '../validate/validate.js';
import { affects } from './affects.js';
import {
  type BasePolicy,
  type ChangedFile,
  classify,
  type FileVerdict,
  GRANT_PATH,
  type Review,
} from './classify.js';
import { contributorsOf, type PullCommit } from './contributors.js';

export class RefError extends Error {}

export interface Effect {
  action: 'grant' | 'revoke';
  app: string;
  user: string;
  entitlement?: string;
  license?: string;
}

export interface Scheduled extends Effect {
  /** When the grant's start or end makes it happen (ISO 8601, UTC). */
  at: string;
}

/** A grant file as the pull request leaves it, for reviewers: dates in the settings' time zone. */
export interface GrantSummary {
  file: string;
  user: string;
  app: string;
  permissions: string[];
  license?: string;
  start?: string;
  end?: string;
  reason?: string;
}

export interface CheckResult {
  ok: boolean;
  files: FileVerdict[];
  head: string;
  base: string;
  /** Problems with the pull request as a whole (a base that is not the protected branch). */
  problems: string[];
  /** Validation problems the pull request brings: in the files it changes, or new since the base. */
  diagnostics: Diagnostic[];
  /** What merging would grant and revoke now: the changed grants active now at head against base. */
  effect: Effect[];
  /** What the changed grants will do later: future starts and ends. */
  scheduled: Scheduled[];
  /** The changed grant files as the head has them. */
  grants: GrantSummary[];
  /** The settings' time zone, in which `grants` shows dates. */
  zone: string;
}

export interface CheckInput {
  root: string;
  base: string;
  head: string;
  /** The pull request's author (GitHub login). */
  author: string;
  /** Its commits, as GitHub lists them (with --pr); their authors and committers are contributors too. */
  commits: PullCommit[];
  /** How many commits the pull request has, when GitHub says (it lists at most 250). */
  commitCount?: number;
  /** More contributors named by hand (--contributor). */
  contributors: string[];
  reviews: Review[];
  /** The instant to evaluate at, given the head's time zone (a bare --at date is midnight there). */
  at: (zone: string) => Instant;
  /** With --pr: the branch the pull request merges into and the repository's default branch. */
  branch?: { base: string; default: string };
}

/**
 * The I/O shell of the pull-request check. Base and head are read from git
 * objects, never checked out: roles, approvers and people from the base; the
 * changed files from the head. A change to grant files reads only those files
 * (and, for seat counts, the other grants of their apps); a change to
 * settings, people or apps validates the whole head against the base.
 */
export async function checkPullRequest(input: CheckInput): Promise<CheckResult> {
  const base = await resolveRef(input.root, input.base);
  const head = await resolveRef(input.root, input.head);
  if (!base) throw new RefError(`--base ${input.base} is not a commit in ${input.root}`);
  if (!head) throw new RefError(`--head ${input.head} is not a commit in ${input.root}`);
  const changed = await changedPaths(input.root, await mergeBase(input.root, base, head), head);
  const grantFiles = new Set(changed.filter((c) => GRANT_PATH.test(c.path)).map((c) => c.path));
  const whole = changed.some((c) => c.path.startsWith('grants/') && !GRANT_PATH.test(c.path));

  // A change to grant files lists only their folders; anything else reads the whole repository.
  const folders = [...new Set([...grantFiles].map((f) => f.split('/')[1]!))];
  const open = (commit: string) =>
    whole ? CommitTree.open(input.root, commit) : CommitTree.openSome(input.root, commit, folders);
  const [baseTree, headTree] = await Promise.all([open(base), open(head)]);
  // Base and head share most files' blobs: each is parsed once.
  const memo = new Map();
  const [baseRepo, headRepo] = await Promise.all([
    loadTree(baseTree, { grants: (g) => whole || grantFiles.has(g.file), memo }),
    loadTree(headTree, {
      memo,
      // Seats are counted over every grant of an app with tiers; other rules need only the file itself.
      grants: (g, apps) =>
        whole ||
        grantFiles.has(g.file) ||
        ((apps.get(g.folder)?.value?.licenses?.length ?? 0) > 0 &&
          [...grantFiles].some((f) => f.startsWith(`grants/${g.folder}/`))),
    }),
  ]);

  const at = input.at(zoneOf(headRepo));
  const policy = basePolicy(baseRepo);
  const files: ChangedFile[] = changed.map((c) => ({ ...c, ...affects(c.path, baseRepo, headRepo) }));
  const contributors = contributorsOf(
    input.author,
    input.commits,
    input.contributors,
    baseRepo.settings?.raw?.policy !== undefined &&
      (baseRepo.settings.raw.policy as { verifiedCommitsOnly?: unknown }).verifiedCommitsOnly === true,
  );
  if (input.commitCount !== undefined && input.commitCount > input.commits.length)
    contributors.unknown.push(
      `the pull request has ${input.commitCount} commits and GitHub lists only ${input.commits.length}, so not every contributor is known`,
    );
  const verdicts = classify({
    head,
    contributors,
    files,
    reviews: input.reviews,
    base: policy,
  });

  const headDiagnostics = validateRepo(headRepo, at, { blame: grantFiles }).diagnostics;
  const touched = new Set(changed.map((c) => c.path));
  let diagnostics = headDiagnostics.filter((d) => touched.has(d.file));
  if (whole) {
    const before = new Set(validateRepo(baseRepo, at).diagnostics.map(diagnosticKey));
    diagnostics = headDiagnostics.filter((d) => touched.has(d.file) || !before.has(diagnosticKey(d)));
  }
  const broken = new Map<string, Diagnostic>();
  for (const d of diagnostics) if (d.severity === 'error' && !broken.has(d.file)) broken.set(d.file, d);
  for (const verdict of verdicts) {
    const problem = broken.get(verdict.file);
    if (problem) {
      verdict.ok = false;
      verdict.reason = `${verdict.reason}; does not validate: ${problem.message}`;
    }
  }

  const problems: string[] = [];
  if (input.branch) {
    const protectedBranch = baseRepo.settings?.value?.policy?.branch ?? input.branch.default;
    if (input.branch.base !== protectedBranch) {
      problems.push(
        `the pull request merges into ${input.branch.base}, not the protected branch ${protectedBranch}: access changes are checked only against ${protectedBranch}`,
      );
    }
  }
  const zone = zoneOf(headRepo);
  const changedGrants = (repo: AccessRepo) => repo.grants.filter((g) => whole || grantFiles.has(g.file));
  return {
    ok: problems.length === 0 && verdicts.every((v) => v.ok) && broken.size === 0,
    files: verdicts,
    head,
    base,
    problems,
    diagnostics,
    effect: effect(changedGrants(baseRepo), zoneOf(baseRepo), changedGrants(headRepo), zone, at),
    scheduled: scheduled(
      headRepo.grants.filter((g) => grantFiles.has(g.file)),
      zone,
      at,
    ),
    grants: headRepo.grants.filter((g) => grantFiles.has(g.file)).flatMap((g) => summary(g, zone)),
    zone,
  };
}

function diagnosticKey(d: Diagnostic): string {
  return `${d.file}\u0000${d.code}\u0000${d.message}`;
}

/** Roles, approvers, GitHub logins and exemptions as the base branch has them. */
export function basePolicy(repo: AccessRepo): BasePolicy {
  const logins = new Map<string, string>();
  const loginOf = new Map<string, string>();
  const people = repo.people?.raw?.people;
  for (const person of Array.isArray(people) ? people : []) {
    const login = (person as { accounts?: { github?: unknown } })?.accounts?.github;
    const id = (person as { id?: unknown })?.id;
    if (typeof login === 'string' && typeof id === 'string' && !logins.has(login.toLowerCase())) {
      logins.set(login.toLowerCase(), id);
      loginOf.set(id, login);
    }
  }
  const settings = repo.settings?.raw ?? {};
  const roles = (settings.roles ?? {}) as Record<string, unknown>;
  const ids = (value: unknown) =>
    new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const approvers = new Map<string, Set<string>>();
  for (const [id, app] of repo.apps) approvers.set(id, ids(app.raw?.approvers));
  const exempt = (settings.policy as { exempt?: unknown } | undefined)?.exempt;
  return {
    logins,
    loginOf,
    superAdmins: ids(roles['super-admin']),
    readWrite: ids(roles['users-read-write']),
    approvers,
    exempt: [...ids(exempt)],
  };
}

type Active = Map<string, Effect>;

/** The assignments valid grants give at an instant, keyed by app, user and what. */
function active(grants: readonly GrantEntry[], zone: string, at: Instant): Active {
  const out: Active = new Map();
  for (const grant of grants) {
    const value = grant.value;
    const window = value && grantWindow(value, zone);
    if (!value || !window || !isActive(window, at)) continue;
    const { app, user } = value;
    for (const entitlement of value.permissions ?? [])
      out.set(`${app}\u0000${user}\u0000${target({ entitlement })}`, {
        action: 'grant',
        app,
        user,
        entitlement,
      });
    if (value.license !== undefined) {
      const license = value.license;
      out.set(`${app}\u0000${user}\u0000${target({ license })}`, { action: 'grant', app, user, license });
    }
  }
  return out;
}

function effect(
  base: readonly GrantEntry[],
  baseZone: string,
  head: readonly GrantEntry[],
  headZone: string,
  at: Instant,
): Effect[] {
  const before = active(base, baseZone, at);
  const after = active(head, headZone, at);
  const out: Effect[] = [];
  for (const [key, e] of after) if (!before.has(key)) out.push(e);
  for (const [key, e] of before) if (!after.has(key)) out.push({ ...e, action: 'revoke' });
  return out.sort(
    (a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user) || a.action.localeCompare(b.action),
  );
}

function scheduled(grants: readonly GrantEntry[], zone: string, at: Instant): Scheduled[] {
  const out: Scheduled[] = [];
  for (const grant of grants) {
    const value = grant.value;
    const window = value && grantWindow(value, zone);
    if (!value || !window) continue;
    const what = [
      ...(value.permissions ?? []).map((entitlement) => ({ entitlement })),
      ...(value.license !== undefined ? [{ license: value.license }] : []),
    ];
    for (const [action, when] of [
      ['grant', window.start],
      ['revoke', window.end],
    ] as const) {
      if (when === undefined || when <= at) continue;
      for (const w of what) out.push({ action, app: value.app, user: value.user, ...w, at: isoUtc(when) });
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

function summary(grant: GrantEntry, zone: string): GrantSummary[] {
  const value = grant.value;
  if (!value) return [];
  const window = grantWindow(value, zone);
  return [
    {
      file: grant.file,
      user: value.user,
      app: value.app,
      permissions: value.permissions ?? [],
      ...(value.license !== undefined ? { license: value.license } : {}),
      ...(window?.start !== undefined ? { start: humanTime(window.start, zone) } : {}),
      ...(window?.end !== undefined ? { end: humanTime(window.end, zone) } : {}),
      ...(value.reason !== undefined ? { reason: value.reason } : {}),
    },
  ];
}
