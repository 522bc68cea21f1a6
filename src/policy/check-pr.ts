import { rmSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics.js';
import { changedFiles, resolveRef, snapshot } from '../git/snapshot.js';
import { loadRepo } from '../load/repo.js';
import { target } from '../model/access.js';
import type { AccessRepo } from '../model/repo.js';
import { type Instant, isoUtc, isTimeZone } from '../model/time.js';
import { grantWindow, isActive } from '../model/window.js';
import { validateRepo } from '../validate/validate.js';
import { type BasePolicy, classify, type FileVerdict, type Review } from './classify.js';

export class RefError extends Error {}

export interface Effect {
  action: 'grant' | 'revoke';
  app: string;
  user: string;
  entitlement?: string;
  license?: string;
}

export interface Scheduled extends Effect {
  /** When the grant's start or end makes it happen. */
  at: string;
}

export interface CheckResult {
  ok: boolean;
  files: FileVerdict[];
  head: string;
  base: string;
  /** The head's validation problems; any error makes the check fail. */
  diagnostics: Diagnostic[];
  /** What merging would grant and revoke now: the grants active now at head against those at base. */
  effect: Effect[];
  /** What the changed grants will do later: future starts and ends. */
  scheduled: Scheduled[];
}

export interface CheckInput {
  root: string;
  base: string;
  head: string;
  author: string;
  reviews: Review[];
  at: Instant;
}

/** The I/O shell of the pull-request check: reads base and head from git, classifies, validates the head. */
export async function checkPullRequest(input: CheckInput): Promise<CheckResult> {
  const base = await resolveRef(input.root, input.base);
  const head = await resolveRef(input.root, input.head);
  if (!base) throw new RefError(`--base ${input.base} is not a commit in ${input.root}`);
  if (!head) throw new RefError(`--head ${input.head} is not a commit in ${input.root}`);
  const files = await changedFiles(input.root, base, head);
  const [baseDir, headDir] = await Promise.all([snapshot(input.root, base), snapshot(input.root, head)]);
  try {
    const [baseRepo, headRepo] = await Promise.all([loadRepo(baseDir), loadRepo(headDir)]);
    const verdicts = classify({
      author: input.author,
      head,
      files,
      reviews: input.reviews,
      base: basePolicy(baseRepo),
    });
    const diagnostics = validateRepo(headRepo, input.at).diagnostics;
    const broken = new Map<string, Diagnostic>();
    for (const d of diagnostics) if (d.severity === 'error' && !broken.has(d.file)) broken.set(d.file, d);
    for (const verdict of verdicts) {
      const problem = broken.get(verdict.file);
      if (problem) {
        verdict.ok = false;
        verdict.reason = `${verdict.reason}; does not validate: ${problem.message}`;
      }
    }
    const ok = verdicts.every((v) => v.ok) && broken.size === 0;
    const changed = new Set(files.map((f) => f.path));
    return {
      ok,
      files: verdicts,
      head,
      base,
      diagnostics,
      effect: effect(baseRepo, headRepo, input.at),
      scheduled: scheduled(headRepo, changed, input.at),
    };
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
    rmSync(headDir, { recursive: true, force: true });
  }
}

/** Roles, approvers and GitHub logins as the base branch has them. */
export function basePolicy(repo: AccessRepo): BasePolicy {
  const logins = new Map<string, string>();
  const people = repo.people?.raw?.people;
  for (const person of Array.isArray(people) ? people : []) {
    const login = (person as { accounts?: { github?: unknown } })?.accounts?.github;
    const id = (person as { id?: unknown })?.id;
    if (typeof login === 'string' && typeof id === 'string') logins.set(login.toLowerCase(), id);
  }
  const roles = (repo.settings?.raw?.roles ?? {}) as Record<string, unknown>;
  const ids = (value: unknown) =>
    new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const approvers = new Map<string, Set<string>>();
  for (const [id, app] of repo.apps) approvers.set(id, ids(app.raw?.approvers));
  return {
    logins,
    superAdmins: ids(roles['super-admin']),
    readWrite: ids(roles['users-read-write']),
    approvers,
  };
}

type Active = Map<string, Effect>;

function zoneOf(repo: AccessRepo): string {
  const zone = repo.settings?.value?.timezone;
  return zone && isTimeZone(zone) ? zone : 'UTC';
}

/** The assignments valid grants give at an instant, keyed by app, user and what. */
function active(repo: AccessRepo, at: Instant): Active {
  const out: Active = new Map();
  for (const grant of repo.grants) {
    const value = grant.value;
    const window = value && grantWindow(value, zoneOf(repo));
    if (!value || !window || !isActive(window, at)) continue;
    const { app, user } = value;
    for (const entitlement of value.permissions ?? []) {
      out.set(`${app}\u0000${user}\u0000${target({ entitlement })}`, {
        action: 'grant',
        app,
        user,
        entitlement,
      });
    }
    if (value.license !== undefined) {
      out.set(`${app}\u0000${user}\u0000${target({ license: value.license })}`, {
        action: 'grant',
        app,
        user,
        license: value.license,
      });
    }
  }
  return out;
}

function effect(base: AccessRepo, head: AccessRepo, at: Instant): Effect[] {
  const before = active(base, at);
  const after = active(head, at);
  const out: Effect[] = [];
  for (const [key, e] of after) if (!before.has(key)) out.push(e);
  for (const [key, e] of before) if (!after.has(key)) out.push({ ...e, action: 'revoke' });
  return out.sort(
    (a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user) || a.action.localeCompare(b.action),
  );
}

function scheduled(head: AccessRepo, changed: Set<string>, at: Instant): Scheduled[] {
  const out: Scheduled[] = [];
  for (const grant of head.grants) {
    const value = grant.value;
    if (!value || !changed.has(grant.file)) continue;
    const window = grantWindow(value, zoneOf(head));
    if (!window) continue;
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
