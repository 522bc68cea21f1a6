import type { AccessRepo } from '../model/repo.js';
import { grantWindow } from '../model/window.js';
import type { ReviewerKind } from './campaign.js';
import { type Use, usedText } from './usage.js';

export interface ScopeOptions {
  apps: string[];
  privileged: boolean;
  /** With --not-used-since: items whose use a connector reports within it leave the scope. */
  notUsedSince?: number;
  /** When each grantee last used each app, where a connector says (reviews/usage.ts). */
  usage?: (app: string, user: string) => Use;
  reviewer: ReviewerKind;
}

export interface ScopedItem {
  file: string;
  user: string;
  app: string;
  /** The grant's end before the campaign, as written, when it has one. */
  end?: string;
  start?: string;
  permissions: string[];
  license?: string;
  reason?: string;
  privileged: boolean;
  /**
   * Its last use, as the pull request says it: `last <instant>`, `never`,
   * `usage not known` (the connector cannot tell: the item stays in scope),
   * or `not asked` without --not-used-since.
   */
  used: string;
  reviewer: string;
  /** Why this reviewer, when it is not the first choice (the grantee is never their own reviewer). */
  fallback?: string;
}

type Raw = Record<string, unknown>;

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function record(value: unknown): Raw {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {};
}

/**
 * Whether a grant is privileged: the app, one of its entitlements or its
 * license tier says `privileged: true`. Read from the raw files, so it works
 * before and after the access rules (issue 30) put the field in the schema.
 */
export function isPrivileged(
  repo: AccessRepo,
  app: string,
  permissions: string[],
  license?: string,
): boolean {
  const raw = repo.apps.get(app)?.raw;
  if (!raw) return false;
  if (raw.privileged === true) return true;
  const flagged = (items: unknown, ids: string[]) =>
    (Array.isArray(items) ? items : []).some(
      (e) => ids.includes(String(record(e).id)) && record(e).privileged === true,
    );
  return (
    flagged(raw.entitlements, permissions) || (license !== undefined && flagged(raw.licenses, [license]))
  );
}

/** The person ids who could review a grant of `app` held by `user`, in order of preference. */
export function reviewerCandidates(
  repo: AccessRepo,
  kind: ReviewerKind,
  app: string,
  user: string,
): string[] {
  const raw = repo.apps.get(app)?.raw ?? {};
  if (kind === 'approvers') return list(raw.approvers);
  if (kind === 'owners') return list(raw.owners);
  const people = Array.isArray(repo.people?.raw?.people) ? (repo.people.raw.people as unknown[]) : [];
  const entry = record(people.find((p) => record(p).id === user));
  // The directory's attributes (issue 30) or a top-level manager field, whichever the directory has.
  const manager = record(entry.attributes).manager ?? entry.manager;
  return typeof manager === 'string' ? [manager] : [];
}

/**
 * The grants a campaign reviews, each with its reviewer: grants of the apps
 * in scope in force now or later whose end is absent or after `endAt`. The
 * reviewer is the first candidate who is not the grantee, else a Super Admin
 * who is not; an item nobody but its grantee could review is refused.
 */
export function selectItems(
  repo: AccessRepo,
  zone: string,
  now: number,
  endAt: number,
  options: ScopeOptions,
): { items: ScopedItem[]; problems: string[]; usedRecently: number } {
  const problems: string[] = [];
  let usedRecently = 0;
  const apps = options.apps.length > 0 ? options.apps : [...repo.apps.keys()].sort();
  for (const app of apps)
    if (!repo.apps.has(app)) problems.push(`--app ${app}: no app of that id in grants/`);
  const admins = list(record(repo.settings?.raw?.roles)['super-admin']);
  const items: ScopedItem[] = [];
  const grants = repo.grants
    .filter((g) => apps.includes(g.folder) && g.value)
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const grant of grants) {
    const value = grant.value!;
    const window = grantWindow(value, zone);
    if (!window) continue;
    if (window.end !== undefined && (window.end <= now || window.end <= endAt)) continue;
    const permissions = value.permissions ?? [];
    const privileged = isPrivileged(repo, value.app, permissions, value.license);
    if (options.privileged && !privileged) continue;
    const use = options.usage?.(value.app, value.user);
    // Only a use the service reports within the span takes an item out; not knowing keeps it in.
    if (
      options.notUsedSince !== undefined &&
      use?.known &&
      use.last !== null &&
      use.last > now - options.notUsedSince
    ) {
      usedRecently++;
      continue;
    }
    const first = reviewerCandidates(repo, options.reviewer, value.app, value.user);
    const chosen = first.find((p) => p !== value.user);
    const admin = admins.find((p) => p !== value.user);
    const reviewer = chosen ?? admin;
    if (!reviewer) {
      problems.push(
        `${grant.file}: no one but ${value.user} can review it; name another ${options.reviewer === 'manager' ? 'manager' : 'approver'} or Super Admin`,
      );
      continue;
    }
    items.push({
      file: grant.file,
      user: value.user,
      app: value.app,
      ...(value.end !== undefined ? { end: value.end } : {}),
      ...(value.start !== undefined ? { start: value.start } : {}),
      permissions,
      ...(value.license !== undefined ? { license: value.license } : {}),
      ...(value.reason !== undefined ? { reason: value.reason } : {}),
      privileged,
      used: options.notUsedSince === undefined ? 'not asked' : usedText(use),
      reviewer,
      ...(chosen
        ? {}
        : {
            fallback:
              first.length === 0
                ? `no ${options.reviewer === 'manager' ? 'manager' : options.reviewer} named: a Super Admin reviews it`
                : `${value.user} never reviews their own access: a Super Admin reviews it`,
          }),
    });
  }
  return { items, problems, usedRecently };
}
