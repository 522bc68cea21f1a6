import { createHash } from 'node:crypto';
import {
  type Assignment,
  type Change,
  type ChangeReason,
  type Held,
  target,
  type Unmanaged,
} from '../model/access.js';
import { type Instant, isoUtc } from '../model/time.js';
import type { AccountIndex } from './accounts.js';
import { desired, type GrantSpec } from './desired.js';

/** What the planner knows of one app. */
export interface AppInput {
  id: string;
  prune: boolean;
  caseInsensitiveAccounts: boolean;
  /** What the app holds in its managed scope; undefined when it was not observed (see skip). */
  observed: Held[] | undefined;
  skip?: { reason: string; error: boolean };
  /** Valid grants of this app whose users are not held. */
  grants: GrantSpec[];
  /** Users whose grant file does not validate: their access here stays exactly as it is. */
  held: { user: string; file: string; reason: string }[];
  /** Account name (as the app compares them) to person id, for every person. */
  people: AccountIndex;
  /** Accounts (as the app compares them) and person ids whose grant file for this app was deleted in git: their leftover access is `removed`, not drift. */
  removedFromGit: Set<string>;
  /** Entitlement and tier ids of mappings the app no longer declares: whoever holds them is revoked as `retired`. */
  retired?: Set<string>;
  /** For people whose changes depend on it (see historyCandidates), what earlier versions of their grant file gave. */
  history?: Map<string, GrantHistory>;
}

export interface PlanInput {
  at: Instant;
  apps: AppInput[];
  limits: { maxRemovals: number; maxRemovalShare: number };
  allowMassRemoval: boolean;
  /** What the repository asks to remove across every app since the last run (a run limited to some apps counts it too). */
  repositoryRemovals?: { count: number; since: string };
}

export interface Plan {
  at: string;
  changes: Change[];
  held: { app: string; user: string; file: string; reason: string }[];
  skipped: { app: string; reason: string; error: boolean }[];
  drift: Change[];
  /** Why the safety gates stop this plan; empty when they do not. */
  blocked: string[];
  /** A digest of what each observed app held, so a saved plan can tell it has gone stale. */
  observed: Record<string, string>;
  /**
   * Access held by accounts iden leaves alone (a group role inside a managed
   * role): never changed, but whoever uses them has that access. Absent when none.
   */
  unmanaged?: (Unmanaged & { app: string })[];
}

/** A plan that changes nothing: where planning starts, and what a run that cannot plan returns. */
export function emptyPlan(at: Instant): Plan {
  return { at: isoUtc(at), changes: [], held: [], skipped: [], drift: [], blocked: [], observed: {} };
}

/** The share gate counts only for apps with at least this many managed assignments; below it maxRemovals guards. */
export const SHARE_GATE_MINIMUM = 10;

/** Desired minus observed and the reverse, with a reason for each change and the safety gates. Pure. */
export function makePlan(input: PlanInput): Plan {
  const plan = emptyPlan(input.at);
  const removalsByApp = new Map<string, { removals: number; managed: number }>();
  for (const app of input.apps) {
    for (const held of app.held) plan.held.push({ app: app.id, ...held });
    if (app.skip || !app.observed) {
      plan.skipped.push({ app: app.id, ...(app.skip ?? { reason: 'not observed', error: true }) });
      continue;
    }
    plan.observed[app.id] = fingerprint(app.observed);
    const { changes, drift } = planApp(app, input.at);
    plan.changes.push(...changes);
    plan.drift.push(...drift);
    removalsByApp.set(app.id, {
      removals: changes.filter((c) => c.action === 'revoke').length,
      managed: app.observed.length,
    });
  }
  plan.changes.sort(byAppUserTarget);
  plan.drift.sort(byAppUserTarget);
  if (!input.allowMassRemoval) {
    plan.blocked = gates(removalsByApp, input.limits);
    const repository = input.repositoryRemovals;
    const observed = [...removalsByApp.values()].reduce((n, a) => n + a.removals, 0);
    if (
      repository &&
      repository.count > input.limits.maxRemovals &&
      observed > 0 &&
      observed <= input.limits.maxRemovals
    ) {
      plan.blocked.push(
        `the repository removes ${repository.count} assignments across all apps since the run of ${repository.since}, more than limits.maxRemovals (${input.limits.maxRemovals}); a run of some apps counts them all`,
      );
    }
  }
  return plan;
}

/** What earlier versions of a person's grant file in an app gave: what tells a changed grant from drift. */
export interface GrantHistory {
  /** The targets of the version before the current one; undefined when the file is new. */
  previous: Set<string> | undefined;
  /** The targets any earlier version gave. */
  ever: Set<string>;
}

function planApp(app: AppInput, at: Instant): { changes: Change[]; drift: Change[] } {
  const norm = (account: string) => (app.caseInsensitiveAccounts ? account.toLowerCase() : account);
  const heldUsers = new Set(app.held.map((h) => h.user));
  const key = (a: { account: string; entitlement?: string | undefined; license?: string | undefined }) =>
    `${norm(a.account)}\u0000${target(a)}`;

  const observed = new Map(app.observed!.map((h) => [key(h), h]));
  const grantsByUser = new Map(app.grants.map((g) => [g.user, g]));
  const want = new Map<string, Assignment>();
  for (const a of desired(app.grants, at)) want.set(key(a), a);

  const changes: Change[] = [];
  const drift: Change[] = [];
  for (const [k, a] of want) {
    const held = observed.get(k);
    if (held && !held.disabled && held.incomplete === undefined) continue;
    const grant = grantsByUser.get(a.user)!;
    const past = app.history?.get(a.user);
    // `changed` only where the grant file changed to give it; otherwise the grant newly gives it.
    if (held?.disabled) changes.push({ action: 'grant', ...a, reason: 'login-disabled' });
    else if (held?.incomplete !== undefined) changes.push({ action: 'grant', ...a, reason: 'incomplete' });
    else if (past?.previous && !past.previous.has(target(a)))
      changes.push({ action: 'grant', ...a, reason: 'changed' });
    else if (grant.window.start !== undefined) {
      changes.push({ action: 'grant', ...a, reason: 'start-reached', since: isoUtc(grant.window.start) });
    } else changes.push({ action: 'grant', ...a, reason: 'new-grant' });
  }
  for (const [k, h] of observed) {
    // Access fed by something iden does not manage is never iden's to take away.
    if (want.has(k) || h.external !== undefined) continue;
    const user = app.people.get(norm(h.account)) ?? h.account;
    const assignment: Assignment = { app: app.id, user, account: h.account, ...pick(h) };
    // A mapping the app no longer declares is removed whoever holds it, held grant or not.
    if (app.retired?.has(h.entitlement ?? h.license ?? '')) {
      changes.push({ action: 'revoke', ...assignment, reason: 'retired' });
      continue;
    }
    if (heldUsers.has(user)) continue;
    const grant = grantsByUser.get(user);
    let reason: ChangeReason;
    let since: string | undefined;
    if (grant) {
      const granted =
        h.entitlement !== undefined ? grant.permissions.includes(h.entitlement) : grant.license === h.license;
      const end = grant.window.end;
      if (granted && end !== undefined && end <= at) {
        reason = 'expired';
        since = isoUtc(end);
      } else if (app.history?.get(user)?.ever.has(target(h))) reason = 'changed';
      else reason = 'drift';
    } else if (app.removedFromGit.has(user) || app.removedFromGit.has(norm(h.account))) reason = 'removed';
    else reason = 'drift';
    const change: Change = { action: 'revoke', ...assignment, reason, ...(since ? { since } : {}) };
    if (reason === 'drift') {
      drift.push(change);
      if (!app.prune) continue;
    }
    changes.push(change);
  }
  return { changes, drift };
}

/**
 * The people whose changes in an app depend on their grant file's history
 * (to tell `changed` from `drift` and from `new-grant`): those with a grant
 * and access to add or take away. Pure; the shell reads history for these.
 */
export function historyCandidates(app: AppInput, at: Instant): string[] {
  if (!app.observed) return [];
  const norm = (account: string) => (app.caseInsensitiveAccounts ? account.toLowerCase() : account);
  const key = (a: { account: string; entitlement?: string | undefined; license?: string | undefined }) =>
    `${norm(a.account)}\u0000${target(a)}`;
  const observed = new Map(app.observed.map((h) => [key(h), h]));
  const want = new Map(desired(app.grants, at).map((a) => [key(a), a]));
  const users = new Set<string>();
  for (const [k, a] of want) if (!observed.has(k)) users.add(a.user);
  const grantUsers = new Set(app.grants.map((g) => g.user));
  for (const [k, h] of observed) {
    // Access fed by something iden does not manage is never iden's to take away.
    if (want.has(k) || h.external !== undefined) continue;
    const user = app.people.get(norm(h.account));
    if (user !== undefined && grantUsers.has(user)) users.add(user);
  }
  return [...users];
}

function pick(h: Held): { entitlement: string } | { license: string } {
  return h.entitlement !== undefined ? { entitlement: h.entitlement } : { license: h.license! };
}

function gates(
  byApp: Map<string, { removals: number; managed: number }>,
  limits: PlanInput['limits'],
): string[] {
  const blocked: string[] = [];
  const total = [...byApp.values()].reduce((n, a) => n + a.removals, 0);
  if (total > limits.maxRemovals) {
    blocked.push(
      `the plan removes ${total} assignments, more than limits.maxRemovals (${limits.maxRemovals})`,
    );
  }
  for (const [app, { removals, managed }] of byApp) {
    if (managed < SHARE_GATE_MINIMUM || removals / managed <= limits.maxRemovalShare) continue;
    blocked.push(
      `the plan removes ${removals} of ${app}'s ${managed} managed assignments (${percent(removals / managed)}), more than limits.maxRemovalShare (${percent(limits.maxRemovalShare)})`,
    );
  }
  return blocked;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export function fingerprint(held: readonly Held[]): string {
  const lines = held.map((h) => `${h.account}\u0000${target(h)}\u0000${h.pending ? 1 : 0}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

function byAppUserTarget(a: Change, b: Change): number {
  return (
    a.app.localeCompare(b.app) ||
    a.user.localeCompare(b.user) ||
    target(a).localeCompare(target(b)) ||
    a.action.localeCompare(b.action)
  );
}
