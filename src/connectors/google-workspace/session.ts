import type { HeldProfile } from '../../model/access.js';
import { groupBy } from '../../util/group-by.js';
import { count } from '../../util/plural.js';
import {
  type Change,
  type Held,
  ObserveError,
  type Session,
  type Step,
  TerminalError,
  TransientError,
} from '../types.js';
import { grantMembership, revokeMembership } from './groups.js';
import { ambiguities, groupOf, heldOf } from './held.js';
import { grantLicence, revokeLicence } from './licences.js';
import type { OpContext } from './ops.js';
import { listProfiles } from './people.js';
import { type GroupMember, listAssignments, listLastLogins, listMembers } from './read.js';

/**
 * A Google Workspace as one app: the members of the groups its entitlements
 * name, with their roles, and the holders of the SKUs its tiers name. Every
 * membership or licence change is one request; requests made at once go
 * out together as batch requests (see transport.ts), so a run of thousands
 * of changes is a handful of HTTP requests, paced within Google's quota.
 */
export class GoogleWorkspaceSession implements Session {
  /**
   * Every step at once: each only queues its request, and the client sends
   * the queue a full batch at a time per API, within the API's pace. Once
   * the token endpoint refuses the key, the rest fail at once, unsent.
   */
  readonly concurrency = Number.POSITIVE_INFINITY;
  readonly notices: string[] = [];

  constructor(
    private readonly ctx: OpContext,
    private readonly customer: string | undefined,
    /** iden import: each holder's profile (name, department, title, manager…) comes with what they hold. */
    private readonly importing = false,
  ) {}

  /** Where users.list looks: the customer, else the admin's domain. */
  private get userScope(): { customer: string } | { domain: string } {
    const adminDomain = this.ctx.adminEmail.slice(this.ctx.adminEmail.lastIndexOf('@') + 1);
    return this.customer !== undefined ? { customer: this.customer } : { domain: adminDomain };
  }

  /**
   * Each user's last sign-in, read now with a token of its own scope
   * (admin.directory.user.readonly, which domain-wide delegation must
   * allow): asked by review start alone, never by plan or apply.
   */
  async lastUsed(): Promise<ReadonlyMap<string, string | null>> {
    const { ctx } = this;
    if (!ctx.users) return new Map();
    return listLastLogins(ctx.users, ctx.directory, this.userScope, ctx.adminEmail);
  }

  /**
   * Profiles for iden import, read with the users' read-only token beside the
   * groups and licences. Without that scope (domain-wide delegation not
   * allowing it), or another refusal, the import goes on without them, said.
   */
  private async profiles(): Promise<Map<string, HeldProfile>> {
    const { ctx } = this;
    if (!this.importing || !ctx.users) return new Map();
    try {
      return await listProfiles(ctx.users, ctx.directory, this.userScope, ctx.adminEmail);
    } catch (e) {
      if (e instanceof TransientError) throw e;
      ctx.notice(
        `people's attributes are not filled: ${(e as Error).message} (iden import reads users.list with the scope https://www.googleapis.com/auth/admin.directory.user.readonly, which domain-wide delegation must allow)`,
      );
      return new Map();
    }
  }

  private notice(text: string): void {
    if (!this.notices.includes(text)) this.notices.push(text);
  }

  async observe(): Promise<Held[]> {
    const { ctx } = this;
    let profiles = new Map<string, HeldProfile>();
    try {
      const problems = ambiguities(ctx.entitlements, ctx.licenses);
      if (problems.length > 0) throw new ObserveError(`${problems.join('; ')}: each must be its own`);
      if (ctx.licenses.length > 0 && this.customer === undefined)
        throw new ObserveError(
          'the app declares tiers, and the License Manager lists licences only by customer: set connector.customer to the customer id (Admin console, Account settings)',
        );
      const groups = [...new Set(ctx.entitlements.map(groupOf))];
      // Every group and tier read at once: their pages share batch requests.
      const [lists, holders, found] = await Promise.all([
        Promise.all(groups.map((g) => listMembers(ctx.client, ctx.directory, g, ctx.adminEmail))),
        Promise.all(
          ctx.licenses.map((l) =>
            listAssignments(ctx.client, ctx.licensing, this.customer!, l.productId, l.skuId, ctx.adminEmail),
          ),
        ),
        this.profiles(),
      ]);
      profiles = found;
      ctx.state.groups.clear();
      ctx.state.tiers.clear();
      groups.forEach((group, i) => {
        ctx.state.groups.set(group, this.users(group, lists[i]!));
      });
      ctx.licenses.forEach((tier, i) => {
        const users = holders[i]!;
        ctx.state.tiers.set(tier.id, new Map(users.map((u) => [u.toLowerCase(), u])));
        if (users.length > tier.seats)
          this.notice(
            `tier ${tier.id}: ${count(users.length, 'licence')} of ${tier.productId}/${tier.skuId} ${users.length === 1 ? 'is' : 'are'} assigned in Google Workspace, more than its ${count(tier.seats, 'seat')}`,
          );
      });
    } catch (e) {
      if (e instanceof TransientError || e instanceof ObserveError) throw e;
      throw new ObserveError(`cannot read the Google Workspace: ${(e as Error).message}`, { cause: e });
    }
    const held = heldOf(ctx.entitlements, ctx.licenses, ctx.state);
    if (profiles.size === 0) return held;
    return held.map((h) => {
      const profile = profiles.get(h.account.toLowerCase());
      return profile ? { ...h, profile } : h;
    });
  }

  /** The user members of a group; groups and the whole domain as members are said, not managed. */
  private users(group: string, members: GroupMember[]) {
    const users = new Map<string, { email: string; role: GroupMember['role'] }>();
    const others: string[] = [];
    for (const m of members) {
      if (m.type === 'USER') users.set(m.email.toLowerCase(), { email: m.email, role: m.role });
      else others.push(m.type === 'CUSTOMER' ? 'everyone in the domain' : m.email);
    }
    if (others.length > 0)
      this.notice(
        `${group} has ${others.length === 1 ? 'a member that is' : `${others.length} members that are`} not a user (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}): who they give access to is neither seen nor managed here`,
      );
    return users;
  }

  /**
   * One step per request: a person's changes in one group together (one
   * membership, one role), each tier change alone. The steps of a phase run
   * at once, so their requests share batch requests, both APIs busy together.
   */
  steps(changes: Change[]): Step[] {
    const { ctx } = this;
    const grant = changes[0]?.action === 'grant';
    const steps: Step[] = [];
    const groupOfChange = (c: Change) => {
      const e = ctx.entitlements.find((x) => x.id === c.entitlement);
      return e ? groupOf(e) : undefined;
    };
    const unknown = changes.filter((c) => c.license === undefined && groupOfChange(c) === undefined);
    for (const change of unknown)
      steps.push({
        changes: [change],
        run: async () => {
          throw new TerminalError(`${change.entitlement} is not an entitlement of ${ctx.app}`);
        },
      });
    const memberships = groupBy(
      changes.filter((c) => groupOfChange(c) !== undefined),
      (c) => `${c.account.toLowerCase()}\u0000${groupOfChange(c)}`,
    );
    for (const batch of memberships.values()) {
      const { account } = batch[0]!;
      const group = groupOfChange(batch[0]!)!;
      steps.push(
        grant ? grantMembership(ctx, account, group, batch) : revokeMembership(ctx, account, group, batch),
      );
    }
    for (const change of changes.filter((c) => c.license !== undefined))
      steps.push(grant ? grantLicence(ctx, change) : revokeLicence(ctx, change));
    return steps;
  }

  async close(): Promise<void> {}
}
