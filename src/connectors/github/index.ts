import { RequestError } from '@octokit/request-error';
import { groupBy } from '../../util/group-by.js';
import {
  type AppSpec,
  type Change,
  type ConnectorContext,
  type Held,
  inOrder,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TerminalError,
  TransientError,
  typed,
} from '../types.js';
import { type Client, createClient } from './client.js';
import type { GithubConnector, GithubEntitlement, GithubLicense } from './settings.generated.js';

type Repo = { repo: string; permission: NonNullable<GithubEntitlement['permission']> };

/** GitHub's role names for repository permissions, as collaborators lists report them. */
const ROLE_OF: Record<string, string> = {
  pull: 'read',
  triage: 'triage',
  push: 'write',
  maintain: 'maintain',
  admin: 'admin',
};

/** Opens a session on the organisation, through octokit. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<GithubConnector, GithubEntitlement, GithubLicense>(app);
  return new GithubSession(createClient(connector, context.env), connector.org, entitlements, licenses);
}

class GithubSession {
  /** One change at a time: GitHub asks integrators to make writes serially, not concurrently. */
  readonly concurrency = 1;
  readonly notices: string[] = [];
  private admins: Set<string> | undefined;
  /** Organisation members as observed, so granting a seat to a member changes nothing (and never demotes an owner). */
  private members = new Set<string>();
  /** Logins whose invitations failed twice: they are not invited a third time. */
  private readonly doNotInvite = new Set<string>();
  /** Copilot seat holders, as observed and as this session changed them. */
  private copilotHolders = new Set<string>();

  constructor(
    private readonly octokit: Client,
    private readonly org: string,
    private readonly entitlements: GithubEntitlement[],
    private readonly licenses: GithubLicense[],
  ) {}

  /** Reads only the managed teams, repositories and seats, page by page: never one read per grant. */
  async observe(): Promise<Held[]> {
    try {
      return await this.read();
    } catch (e) {
      throw new ObserveError(`cannot read GitHub organisation ${this.org}: ${describe(e)}`, { cause: e });
    }
  }

  private async read(): Promise<Held[]> {
    const { octokit, org } = this;
    const held: Held[] = [];
    const roles = this.entitlements.filter((e) => e.orgRole !== undefined);
    const seats = this.licenses.filter((l) => !l.copilot);
    const needsOrg = roles.length > 0 || seats.length > 0;
    const copilot = this.licenses.filter((l) => l.copilot);
    const copilotLogins = new Set<string>();
    if (copilot.length > 0) {
      for await (const page of octokit.paginate.iterator(octokit.rest.copilot.listCopilotSeats, {
        org,
        per_page: 100,
      })) {
        const data = page.data as unknown as { seats?: { assignee?: { login?: string } | null }[] };
        for (const seat of data.seats ?? []) {
          const login = seat.assignee?.login;
          if (!login) continue;
          copilotLogins.add(login.toLowerCase());
          this.copilotHolders.add(login.toLowerCase());
          for (const l of copilot) held.push({ account: login, license: l.id });
        }
      }
    }
    if (needsOrg) {
      const [members, admins] = await Promise.all([
        octokit.paginate(octokit.rest.orgs.listMembers, { org, role: 'all', per_page: 100 }),
        octokit.paginate(octokit.rest.orgs.listMembers, { org, role: 'admin', per_page: 100 }),
      ]);
      this.admins = new Set(admins.map((u) => u.login.toLowerCase()));
      this.members = new Set(members.map((u) => u.login.toLowerCase()));
      for (const { login } of members) {
        const role = this.admins.has(login.toLowerCase()) ? 'admin' : 'member';
        for (const e of roles) if (e.orgRole === role) held.push({ account: login, entitlement: e.id });
        // A person holds one tier: a Copilot seat, or else the organisation seat.
        if (!copilotLogins.has(login.toLowerCase()))
          for (const l of seats) held.push({ account: login, license: l.id });
      }
    }
    const teams = [...new Set(this.entitlements.flatMap((e) => (e.team ? [e.team] : [])))];
    // Invited but not yet joined: in progress, not missing, so the invitation is not sent again.
    // Team memberships waiting on an invitation are read per invitee: invitations are few.
    if (needsOrg || teams.length > 0) {
      const [invitations, failed] = await Promise.all([
        octokit.paginate(octokit.rest.orgs.listPendingInvitations, { org, per_page: 100 }),
        octokit.paginate(octokit.rest.orgs.listFailedInvitations, { org, per_page: 100 }),
      ]);
      // A failed or expired invitation is reported and, being absent, sent again once; after a second failure
      // it is left alone (held as in progress) until someone checks the login.
      const failures = new Map<string, { login: string; count: number; reason: string }>();
      for (const f of failed) {
        if (!f.login) continue;
        const entry = failures.get(f.login.toLowerCase()) ?? {
          login: f.login,
          count: 0,
          reason: f.failed_reason ?? 'failed',
        };
        entry.count++;
        failures.set(f.login.toLowerCase(), entry);
      }
      const pendingLogins = new Set(invitations.flatMap((i) => (i.login ? [i.login.toLowerCase()] : [])));
      for (const { login, count, reason } of failures.values()) {
        if (pendingLogins.has(login.toLowerCase()) || this.members.has(login.toLowerCase())) continue;
        if (count >= 2) {
          this.doNotInvite.add(login.toLowerCase());
          this.notices.push(
            `invitations to ${login} failed ${count} times (${reason}); not sent again: check the login, or invite them by hand`,
          );
        } else this.notices.push(`the invitation to ${login} failed (${reason}); it is sent again`);
      }
      for (const invitation of invitations) {
        const login = invitation.login;
        if (!login) continue;
        const role = invitation.role === 'admin' ? 'admin' : 'member';
        for (const e of roles)
          if (e.orgRole === role) held.push({ account: login, entitlement: e.id, pending: true });
        for (const l of seats) held.push({ account: login, license: l.id, pending: true });
        for (const slug of invitation.team_count > 0 ? teams : []) {
          const state = await octokit.rest.teams
            .getMembershipForUserInOrg({ org, team_slug: slug, username: login })
            .then((r) => r.data.state)
            .catch((e: unknown) => {
              if (e instanceof RequestError && e.status === 404) return undefined;
              throw e;
            });
          if (state !== 'pending') continue;
          for (const e of this.entitlements)
            if (e.team === slug) held.push({ account: login, entitlement: e.id, pending: true });
        }
      }
    }
    for (const slug of teams) {
      const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
        org,
        team_slug: slug,
        role: 'all',
        per_page: 100,
      });
      const forTeam = this.entitlements.filter((e) => e.team === slug);
      const maintainers = forTeam.some((e) => e.maintainer)
        ? new Set(
            (
              await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
                org,
                team_slug: slug,
                role: 'maintainer',
                per_page: 100,
              })
            ).map((u) => u.login.toLowerCase()),
          )
        : new Set<string>();
      for (const { login } of members) {
        for (const e of forTeam) {
          if (!e.maintainer || maintainers.has(login.toLowerCase()))
            held.push({ account: login, entitlement: e.id });
        }
      }
    }
    const repos = [...new Set(this.entitlements.flatMap((e) => (e.repo ? [e.repo] : [])))];
    for (const repo of repos) {
      const collaborators = await octokit.paginate(octokit.rest.repos.listCollaborators, {
        owner: org,
        repo,
        affiliation: 'direct',
        per_page: 100,
      });
      for (const c of collaborators) {
        for (const e of this.entitlements) {
          if (e.repo === repo && e.permission && ROLE_OF[e.permission] === c.role_name)
            held.push({ account: c.login, entitlement: e.id });
        }
      }
    }
    return held;
  }

  /** Copilot seats change in one batch each way; everything else is one call per change, as GitHub offers no batch. */
  steps(changes: Change[]): Step[] {
    const copilot = new Set(this.licenses.filter((l) => l.copilot).map((l) => l.id));
    const steps: Step[] = [];
    for (const action of ['grant', 'revoke'] as const) {
      const batch = changes.filter(
        (c) => c.action === action && c.license !== undefined && copilot.has(c.license),
      );
      if (batch.length > 0)
        steps.push({ changes: batch, run: async () => inOrder(batch, await this.copilot(action, batch)) });
    }
    // Revoking a team's maintainer role alone keeps the person in the team as a member.
    const teamOf = (c: Change) => this.entitlements.find((e) => e.id === c.entitlement)?.team;
    const teamRevokes = groupBy(
      changes.filter((c) => c.action === 'revoke' && teamOf(c) !== undefined),
      (c) => `${c.account.toLowerCase()}\u0000${teamOf(c)}`,
    );
    for (const batch of teamRevokes.values())
      steps.push({
        changes: batch,
        run: async () => inOrder(batch, await this.leaveTeam(batch, teamOf(batch[0]!)!)),
      });
    // Likewise an owner who loses only the owner role stays a member; losing membership or the seat leaves the org.
    const orgLevel = (c: Change) =>
      c.action === 'revoke' &&
      !(c.license !== undefined && copilot.has(c.license)) &&
      !teamOf(c) &&
      !this.repoOf(c);
    for (const batch of groupBy(changes.filter(orgLevel), (c) => c.account.toLowerCase()).values()) {
      steps.push({ changes: batch, run: async () => inOrder(batch, await this.leaveOrg(batch)) });
    }
    for (const change of changes) {
      if (change.license !== undefined && copilot.has(change.license)) continue;
      if (change.action === 'revoke' && (teamOf(change) !== undefined || orgLevel(change))) continue;
      steps.push({ changes: [change], run: async () => [{ change, outcome: await this.one(change) }] });
    }
    return steps;
  }

  private repoOf(c: Change): string | undefined {
    return this.entitlements.find((e) => e.id === c.entitlement)?.repo;
  }

  private async leaveOrg(batch: Change[]): Promise<Outcome[]> {
    const { octokit, org } = this;
    const username = batch[0]!.account;
    const ownerOnly = batch.every(
      (c) => this.entitlements.find((e) => e.id === c.entitlement)?.orgRole === 'admin',
    );
    // Moving from the organisation seat to a Copilot seat (granted earlier in this run): the tier changed, the membership stays.
    if (
      !ownerOnly &&
      batch.every((c) => c.license !== undefined) &&
      this.copilotHolders.has(username.toLowerCase())
    ) {
      return batch.map(() => 'revoked');
    }
    try {
      await this.refuseLastOwner(username);
      if (ownerOnly) await octokit.rest.orgs.setMembershipForUser({ org, username, role: 'member' });
      else await octokit.rest.orgs.removeMembershipForUser({ org, username });
    } catch (e) {
      throw translate(
        e,
        `${ownerOnly ? 'demoting' : 'removing'} ${username} ${ownerOnly ? 'to member of' : 'from'} ${org}`,
        username,
      );
    }
    return batch.map(() => 'revoked');
  }

  private async leaveTeam(batch: Change[], team: string): Promise<Outcome[]> {
    const { octokit, org } = this;
    const username = batch[0]!.account;
    const maintainerOnly = batch.every(
      (c) => this.entitlements.find((e) => e.id === c.entitlement)?.maintainer,
    );
    const keepsMembership = maintainerOnly && this.entitlements.some((e) => e.team === team && !e.maintainer);
    try {
      if (keepsMembership) {
        await octokit.rest.teams.addOrUpdateMembershipForUserInOrg({
          org,
          team_slug: team,
          username,
          role: 'member',
        });
      } else {
        await octokit.rest.teams.removeMembershipForUserInOrg({ org, team_slug: team, username });
      }
    } catch (e) {
      throw translate(
        e,
        `${keepsMembership ? 'demoting' : 'removing'} ${username} ${keepsMembership ? 'to member of' : 'from'} team ${team}`,
        username,
      );
    }
    return batch.map(() => 'revoked');
  }

  private async copilot(action: 'grant' | 'revoke', batch: Change[]): Promise<Outcome[]> {
    const { octokit, org } = this;
    const selected_usernames = [...new Set(batch.map((c) => c.account))];
    try {
      if (action === 'grant') await octokit.rest.copilot.addCopilotSeatsForUsers({ org, selected_usernames });
      else await octokit.rest.copilot.cancelCopilotSeatAssignmentForUsers({ org, selected_usernames });
      for (const login of selected_usernames) {
        if (action === 'grant') this.copilotHolders.add(login.toLowerCase());
        else this.copilotHolders.delete(login.toLowerCase());
      }
    } catch (e) {
      throw translate(
        e,
        `${action === 'grant' ? 'assigning' : 'cancelling'} ${selected_usernames.length} Copilot seat(s)`,
      );
    }
    return batch.map(() => (action === 'grant' ? 'granted' : 'revoked'));
  }

  private async one(change: Change): Promise<Outcome> {
    const { octokit, org } = this;
    const username = change.account;
    const entitlement = this.entitlements.find((e) => e.id === change.entitlement);
    const what = `${change.action === 'grant' ? 'granting' : 'revoking'} ${change.entitlement ?? change.license} ${change.action === 'grant' ? 'to' : 'from'} ${username}`;
    if (change.action === 'grant' && this.doNotInvite.has(username.toLowerCase())) {
      throw new TerminalError(
        `${what}: invitations to ${username} failed twice; not sent again until someone checks the login`,
      );
    }
    try {
      // Team and organisation-level removals go through leaveTeam and leaveOrg, which see all of a person's at once.
      if (entitlement?.team) {
        const role = entitlement.maintainer ? 'maintainer' : 'member';
        await octokit.rest.teams.addOrUpdateMembershipForUserInOrg({
          org,
          team_slug: entitlement.team,
          username,
          role,
        });
        return 'granted';
      }
      if (entitlement?.repo) {
        const { repo, permission } = entitlement as GithubEntitlement & Repo;
        if (change.action === 'grant') {
          await octokit.rest.repos.addCollaborator({ owner: org, repo, username, permission });
          return 'granted';
        }
        await octokit.rest.repos.removeCollaborator({ owner: org, repo, username });
        return 'revoked';
      }
      // An org role, or an organisation seat: both are organisation membership.
      const role = entitlement?.orgRole ?? 'member';
      if (change.action === 'grant' && !entitlement && this.members.has(username.toLowerCase()))
        return 'unchanged';
      // Moving from the organisation seat to a Copilot seat (granted earlier in this run): the tier changed, the membership stays.
      if (change.action === 'revoke' && !entitlement && this.copilotHolders.has(username.toLowerCase()))
        return 'revoked';
      if (change.action === 'grant') {
        await octokit.rest.orgs.setMembershipForUser({ org, username, role });
        return 'granted';
      }
      await this.refuseLastOwner(username);
      if (entitlement?.orgRole === 'admin')
        await octokit.rest.orgs.setMembershipForUser({ org, username, role: 'member' });
      else await octokit.rest.orgs.removeMembershipForUser({ org, username });
      return 'revoked';
    } catch (e) {
      throw translate(e, what, username);
    }
  }

  /** A change that would leave the organisation without an owner is refused: nobody could administer it. */
  private async refuseLastOwner(username: string): Promise<void> {
    if (!this.admins) {
      const admins = await this.octokit.paginate(this.octokit.rest.orgs.listMembers, {
        org: this.org,
        role: 'admin',
        per_page: 100,
      });
      this.admins = new Set(admins.map((u) => u.login.toLowerCase()));
    }
    const login = username.toLowerCase();
    if (!this.admins.has(login)) return;
    if (this.admins.size <= 1) {
      throw new TerminalError(
        `refused: ${username} is the last owner of ${this.org}; make someone else an owner first`,
      );
    }
    this.admins.delete(login);
  }

  async close(): Promise<void> {}
}

/** Turns octokit's errors into the connector contract's: rate limits and server errors transient, the rest terminal. */
export function translate(e: unknown, what: string, username?: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (!(e instanceof RequestError))
    return new TransientError(`${what}: ${describe(e)}`, undefined, { cause: e });
  const after = Number(e.response?.headers?.['retry-after']);
  if (e.status === 404 && username)
    return new TerminalError(`${what}: no GitHub user '${username}' (or no access to it)`, { cause: e });
  if (e.status === 422 && username) {
    return new TerminalError(
      `${what}: GitHub refused it (422 ${e.message}); is '${username}' a GitHub user?`,
      { cause: e },
    );
  }
  if (e.status === 429 || (e.status === 403 && /rate limit/i.test(e.message)) || e.status >= 500) {
    return new TransientError(
      `${what}: GitHub answered ${e.status}: ${e.message}`,
      Number.isFinite(after) ? after * 1000 : undefined,
      {
        cause: e,
      },
    );
  }
  return new TerminalError(`${what}: GitHub answered ${e.status}: ${e.message}`, { cause: e });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
