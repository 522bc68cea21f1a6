import { type Held, TerminalError } from '../types.js';
import type { Client } from './client.js';
import {
  collaborators,
  copilotSeats,
  type Invitations,
  invitations,
  orgMembers,
  pendingInTeam,
  teamMembers,
  Unavailable,
} from './read.js';
import type { GithubEntitlement, GithubLicense } from './settings.generated.js';

/** GitHub's role names for repository permissions, as collaborators lists report them. */
const ROLE_OF: Record<string, string> = {
  pull: 'read',
  triage: 'triage',
  push: 'write',
  maintain: 'maintain',
  admin: 'admin',
};

/** What observe learnt that the steps need: who is a member, an owner, a Copilot seat holder; whom not to invite again. */
export interface OrgState {
  members: Set<string>;
  admins: Set<string> | undefined;
  copilotHolders: Set<string>;
  doNotInvite: Set<string>;
}

/**
 * Reads only the managed scope: the Copilot seats, the members and owners
 * (when a role or seat is managed), invitations in progress, the managed
 * teams and repositories, each through its own reader, never once per grant.
 * A route the server lacks (GitHub Enterprise Server has no invitation or
 * Copilot routes) makes its feature unavailable, said once; it fails the
 * observation only when that feature is managed.
 */
export async function observeOrg(
  octokit: Client,
  org: string,
  entitlements: GithubEntitlement[],
  licenses: GithubLicense[],
  state: OrgState,
  notice: (text: string) => void,
): Promise<Held[]> {
  const held: Held[] = [];
  const roles = entitlements.filter((e) => e.orgRole !== undefined);
  const seats = licenses.filter((l) => !l.copilot);
  const copilot = licenses.filter((l) => l.copilot);
  const teams = [...new Set(entitlements.flatMap((e) => (e.team ? [e.team] : [])))];
  const needsOrg = roles.length > 0 || seats.length > 0 || copilot.length > 0;

  if (copilot.length > 0) {
    let holders = new Map<string, string>();
    try {
      holders = await copilotSeats(octokit, org);
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      if (!copilot.every(retired))
        throw new TerminalError(
          `Copilot seats are not available on this GitHub (${e.message}): remove the copilot tier, or point baseUrl at a GitHub that has Copilot`,
        );
      notice(
        `Copilot seats are not available on this GitHub (${e.message}): ${named(copilot)}, removed from _app.yaml, is left out; nobody holds it here`,
      );
    }
    for (const [lower, login] of holders) {
      state.copilotHolders.add(lower);
      for (const l of copilot) held.push({ account: login, license: l.id });
    }
  }
  if (needsOrg) {
    const { members, admins, logins } = await orgMembers(octokit, org);
    state.members = members;
    state.admins = admins;
    for (const login of logins) {
      const role = admins.has(login.toLowerCase()) ? 'admin' : 'member';
      for (const e of roles) if (e.orgRole === role) held.push({ account: login, entitlement: e.id });
      // A person holds one tier: a Copilot seat, or else the organisation seat.
      if (!state.copilotHolders.has(login.toLowerCase()))
        for (const l of seats) held.push({ account: login, license: l.id });
    }
  }
  if (needsOrg || teams.length > 0) {
    let found: Invitations | undefined;
    try {
      found = await invitations(octokit, org);
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      notice(
        `this GitHub has no invitation routes (${e.message}, as on GitHub Enterprise Server): invitations in progress are not seen, and are sent again until accepted`,
      );
    }
    if (found)
      held.push(...(await pending(octokit, org, found, entitlements, roles, seats, teams, state, notice)));
  }
  for (const slug of teams) {
    const forTeam = entitlements.filter((e) => e.team === slug);
    const team = await unlessGone(
      () =>
        teamMembers(
          octokit,
          org,
          slug,
          forTeam.some((e) => e.maintainer),
        ),
      forTeam,
      `team ${slug}`,
      `create it in ${org}, fix the team slug in _app.yaml, or give iden's token access to it`,
      notice,
    );
    for (const login of team?.logins ?? [])
      for (const e of forTeam)
        if (!e.maintainer || team?.maintainers.has(login.toLowerCase()))
          held.push({ account: login, entitlement: e.id });
  }
  for (const repo of new Set(entitlements.flatMap((e) => (e.repo ? [e.repo] : [])))) {
    const forRepo = entitlements.filter((e) => e.repo === repo);
    const found = await unlessGone(
      () => collaborators(octokit, org, repo),
      forRepo,
      `repository ${org}/${repo}`,
      `fix the repository name in _app.yaml, or give iden's token access to it`,
      notice,
    );
    for (const c of found ?? [])
      for (const e of forRepo)
        if (e.permission && ROLE_OF[e.permission] === c.role)
          held.push({ account: c.login, entitlement: e.id });
  }
  return held;
}

/** A mapping _app.yaml no longer declares, passed so its holders are revoked: its id is marked (`eng@retired`, `eng@retired-2`). */
function retired(mapping: { id: string }): boolean {
  return /@retired(-\d+)?$/.test(mapping.id);
}

/** The mappings as _app.yaml named them. */
function named(mappings: { id: string }[]): string {
  return mappings.map((m) => `'${m.id.replace(/@retired(-\d+)?$/, '')}'`).join(', ');
}

/**
 * Reads what some mappings hold. A team or repository that does not exist
 * (404) fails the observation while a declared mapping names it; when only
 * mappings retired from _app.yaml do, it is left out with a notice (nobody
 * holds what is gone), never blocking the app.
 */
async function unlessGone<T>(
  read: () => Promise<T>,
  mappings: { id: string }[],
  thing: string,
  fix: string,
  notice: (text: string) => void,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    if (!mappings.every(retired)) throw new TerminalError(`${thing} does not exist (${e.message}): ${fix}`);
    notice(
      `${thing} no longer exists (${e.message}): ${named(mappings)}, removed from _app.yaml, is left out`,
    );
    return undefined;
  }
}

/**
 * Invited but not yet joined: in progress, not missing, so the invitation is
 * not sent again. A failed or expired invitation is reported and, being
 * absent, sent again once; after a second failure it is left alone (held as
 * in progress) until someone checks the login.
 */
async function pending(
  octokit: Client,
  org: string,
  found: Invitations,
  entitlements: GithubEntitlement[],
  roles: GithubEntitlement[],
  seats: GithubLicense[],
  teams: string[],
  state: OrgState,
  notice: (text: string) => void,
): Promise<Held[]> {
  const held: Held[] = [];
  const failures = new Map<string, { login: string; count: number; reason: string }>();
  for (const f of found.failed) {
    const entry = failures.get(f.login.toLowerCase()) ?? { login: f.login, count: 0, reason: f.reason };
    entry.count++;
    failures.set(f.login.toLowerCase(), entry);
  }
  const invited = new Set(found.pending.map((i) => i.login.toLowerCase()));
  for (const { login, count, reason } of failures.values()) {
    if (invited.has(login.toLowerCase()) || state.members.has(login.toLowerCase())) continue;
    if (count >= 2) {
      state.doNotInvite.add(login.toLowerCase());
      notice(
        `invitations to ${login} failed ${count} times (${reason}); not sent again: check the login, or invite them by hand`,
      );
    } else notice(`the invitation to ${login} failed (${reason}); it is sent again`);
  }
  for (const invitation of found.pending) {
    const { login, role } = invitation;
    for (const e of roles)
      if (e.orgRole === role) held.push({ account: login, entitlement: e.id, pending: true });
    for (const l of seats) held.push({ account: login, license: l.id, pending: true });
    // Team memberships waiting on an invitation are read per invitee: invitations are few.
    for (const slug of invitation.teams > 0 ? teams : []) {
      if (!(await pendingInTeam(octokit, org, slug, login))) continue;
      for (const e of entitlements)
        if (e.team === slug) held.push({ account: login, entitlement: e.id, pending: true });
    }
  }
  return held;
}
