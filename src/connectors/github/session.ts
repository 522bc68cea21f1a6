import type { Clock } from '../../model/clock.js';
import { groupBy } from '../../util/group-by.js';
import {
  type Change,
  type Held,
  inOrder,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TerminalError,
  TransientError,
} from '../types.js';
import type { Client, Pacer } from './client.js';
import { describeError, translate } from './errors.js';
import { type OrgState, observeOrg } from './observe.js';
import type { GithubEntitlement, GithubLicense } from './settings.generated.js';

/** Teams, organisation roles, repository permissions and Copilot seats of one organisation. */
export class GithubSession implements Session {
  /** One change at a time: GitHub asks integrators to make writes serially, not concurrently. */
  readonly concurrency = 1;
  readonly notices: string[] = [];
  private readonly state: OrgState = {
    members: new Set(),
    admins: undefined,
    copilotHolders: new Set(),
    doNotInvite: new Set(),
  };

  constructor(
    private readonly octokit: Client,
    private readonly org: string,
    private readonly entitlements: GithubEntitlement[],
    private readonly licenses: GithubLicense[],
    private readonly pacer: Pacer,
    private readonly clock: Clock,
  ) {}

  /** The contract's error for a failed request, read against the run's clock (an HTTP-date Retry-After, a reset). */
  private fail(e: unknown, what: string, username?: string): Error {
    return translate(e, what, this.clock.now(), username);
  }

  async observe(): Promise<Held[]> {
    try {
      return await observeOrg(
        this.octokit,
        this.org,
        this.entitlements,
        this.licenses,
        this.state,
        (text) => {
          if (!this.notices.includes(text)) this.notices.push(text);
        },
      );
    } catch (e) {
      const error = this.fail(e, `reading GitHub organisation ${this.org}`);
      if (error instanceof TransientError) throw error;
      throw new ObserveError(`cannot read GitHub organisation ${this.org}: ${describeError(e)}`, {
        cause: e,
      });
    }
  }

  private entitlement(c: Change): GithubEntitlement | undefined {
    return this.entitlements.find((e) => e.id === c.entitlement);
  }

  private copilotTier(c: Change): boolean {
    return c.license !== undefined && this.licenses.some((l) => l.id === c.license && l.copilot);
  }

  /** An organisation role or the organisation seat: what membership itself gives. */
  private orgLevel(c: Change): boolean {
    const e = this.entitlement(c);
    return (c.license !== undefined && !this.copilotTier(c)) || e?.orgRole !== undefined;
  }

  /**
   * Grants: one membership request per person with the role they end with
   * (a Copilot seat needs membership too), then team and repository access,
   * then the Copilot seats in one batch. Removals: a person's team removals
   * together, their organisation-level ones together, Copilot in one batch.
   */
  steps(changes: Change[]): Step[] {
    this.pacer.remaining = changes.length;
    if (changes[0]?.action !== 'revoke') return this.grantSteps(changes);
    const steps: Step[] = [];
    const copilot = changes.filter((c) => this.copilotTier(c));
    if (copilot.length > 0)
      steps.push({
        changes: copilot,
        run: async () => inOrder(copilot, await this.copilot('revoke', copilot)),
      });
    // Revoking a team's maintainer role alone keeps the person in the team as a member.
    const teamOf = (c: Change) => this.entitlement(c)?.team;
    for (const batch of groupBy(
      changes.filter((c) => teamOf(c) !== undefined),
      (c) => `${c.account.toLowerCase()}\u0000${teamOf(c)}`,
    ).values())
      steps.push({
        changes: batch,
        run: async () => inOrder(batch, await this.leaveTeam(batch, teamOf(batch[0]!)!)),
      });
    for (const change of changes.filter((c) => this.entitlement(c)?.repo !== undefined))
      steps.push({
        changes: [change],
        run: async () => [{ change, outcome: await this.repository(change) }],
      });
    // Likewise an owner who loses only the owner role stays a member; losing membership or the seat leaves the org.
    for (const batch of groupBy(
      changes.filter((c) => this.orgLevel(c)),
      (c) => c.account.toLowerCase(),
    ).values())
      steps.push({ changes: batch, run: async () => inOrder(batch, await this.leaveOrg(batch)) });
    return steps;
  }

  private grantSteps(changes: Change[]): Step[] {
    const steps: Step[] = [];
    const byAccount = groupBy(changes, (c) => c.account.toLowerCase());
    for (const [account, mine] of byAccount) {
      const org = mine.filter((c) => this.orgLevel(c));
      const needsMember = mine.some((c) => this.copilotTier(c)) && !this.state.members.has(account);
      if (org.length > 0 || needsMember)
        steps.push({
          changes: org,
          run: async () => inOrder(org, await this.membership(mine[0]!.account, org)),
        });
    }
    for (const change of changes.filter((c) => this.entitlement(c)?.team !== undefined))
      steps.push({ changes: [change], run: async () => [{ change, outcome: await this.team(change) }] });
    for (const change of changes.filter((c) => this.entitlement(c)?.repo !== undefined))
      steps.push({
        changes: [change],
        run: async () => [{ change, outcome: await this.repository(change) }],
      });
    const copilot = changes.filter((c) => this.copilotTier(c));
    if (copilot.length > 0)
      steps.push({
        changes: copilot,
        run: async () => inOrder(copilot, await this.copilot('grant', copilot)),
      });
    return steps;
  }

  private refuseInvite(username: string, what: string): void {
    if (this.state.doNotInvite.has(username.toLowerCase()) && !this.state.members.has(username.toLowerCase()))
      throw new TerminalError(
        `${what}: invitations to ${username} failed twice; not sent again until someone checks the login`,
      );
  }

  /** One PUT of the membership, with the role the person ends with; none when they already have it. */
  private async membership(username: string, changes: Change[]): Promise<Outcome[]> {
    const { octokit, org } = this;
    const login = username.toLowerCase();
    const owner =
      changes.some((c) => this.entitlement(c)?.orgRole === 'admin') ||
      (this.state.admins?.has(login) ?? false);
    const role = owner ? 'admin' : 'member';
    const what = `making ${username} ${role === 'admin' ? 'an owner' : 'a member'} of ${org}`;
    const current = this.state.members.has(login)
      ? this.state.admins?.has(login)
        ? 'admin'
        : 'member'
      : undefined;
    if (current === role) return changes.map(() => 'unchanged');
    this.refuseInvite(username, what);
    try {
      await octokit.rest.orgs.setMembershipForUser({ org, username, role });
    } catch (e) {
      throw this.fail(e, what, username);
    }
    if (current !== undefined) {
      if (role === 'admin') this.state.admins?.add(login);
      else this.state.admins?.delete(login);
    }
    return changes.map(() => 'granted');
  }

  private async team(change: Change): Promise<Outcome> {
    const e = this.entitlement(change)!;
    const username = change.account;
    const what = `adding ${username} to team ${e.team}${e.maintainer ? ' as maintainer' : ''}`;
    this.refuseInvite(username, what);
    try {
      await this.octokit.rest.teams.addOrUpdateMembershipForUserInOrg({
        org: this.org,
        team_slug: e.team!,
        username,
        role: e.maintainer ? 'maintainer' : 'member',
      });
    } catch (err) {
      throw this.fail(err, what, username);
    }
    return 'granted';
  }

  private async repository(change: Change): Promise<Outcome> {
    const e = this.entitlement(change)!;
    const username = change.account;
    const grant = change.action === 'grant';
    const what = `${grant ? 'giving' : 'taking'} ${e.permission} on ${e.repo} ${grant ? 'to' : 'from'} ${username}`;
    try {
      if (grant)
        await this.octokit.rest.repos.addCollaborator({
          owner: this.org,
          repo: e.repo!,
          username,
          permission: e.permission!,
        });
      else await this.octokit.rest.repos.removeCollaborator({ owner: this.org, repo: e.repo!, username });
    } catch (err) {
      throw this.fail(err, what, username);
    }
    return grant ? 'granted' : 'revoked';
  }

  private async leaveOrg(batch: Change[]): Promise<Outcome[]> {
    const { octokit, org } = this;
    const username = batch[0]!.account;
    const ownerOnly = batch.every((c) => this.entitlement(c)?.orgRole === 'admin');
    // Moving from the organisation seat to a Copilot seat (granted earlier in this run): the tier changed, the membership stays.
    if (
      !ownerOnly &&
      batch.every((c) => c.license !== undefined) &&
      this.state.copilotHolders.has(username.toLowerCase())
    )
      return batch.map(() => 'revoked');
    try {
      await this.refuseLastOwner(username);
      if (ownerOnly) await octokit.rest.orgs.setMembershipForUser({ org, username, role: 'member' });
      else await octokit.rest.orgs.removeMembershipForUser({ org, username });
    } catch (e) {
      throw this.fail(
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
    const maintainerOnly = batch.every((c) => this.entitlement(c)?.maintainer);
    const keepsMembership = maintainerOnly && this.entitlements.some((e) => e.team === team && !e.maintainer);
    try {
      if (keepsMembership)
        await octokit.rest.teams.addOrUpdateMembershipForUserInOrg({
          org,
          team_slug: team,
          username,
          role: 'member',
        });
      else await octokit.rest.teams.removeMembershipForUserInOrg({ org, team_slug: team, username });
    } catch (e) {
      throw this.fail(
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
        if (action === 'grant') this.state.copilotHolders.add(login.toLowerCase());
        else this.state.copilotHolders.delete(login.toLowerCase());
      }
    } catch (e) {
      throw this.fail(
        e,
        `${action === 'grant' ? 'assigning' : 'cancelling'} ${selected_usernames.length} Copilot seat(s)`,
      );
    }
    return batch.map(() => (action === 'grant' ? 'granted' : 'revoked'));
  }

  /** A change that would leave the organisation without an owner is refused: nobody could administer it. */
  private async refuseLastOwner(username: string): Promise<void> {
    if (!this.state.admins) {
      const admins = await this.octokit.paginate(this.octokit.rest.orgs.listMembers, {
        org: this.org,
        role: 'admin',
        per_page: 100,
      });
      this.state.admins = new Set(admins.map((u) => u.login.toLowerCase()));
    }
    const login = username.toLowerCase();
    if (!this.state.admins.has(login)) return;
    if (this.state.admins.size <= 1)
      throw new TerminalError(
        `refused: ${username} is the last owner of ${this.org}; make someone else an owner first`,
      );
    this.state.admins.delete(login);
  }

  async close(): Promise<void> {}
}
