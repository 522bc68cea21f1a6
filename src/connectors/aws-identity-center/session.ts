import { CreateGroupMembershipCommand, DeleteGroupMembershipCommand } from '@aws-sdk/client-identitystore';
import type { Clock } from '../../model/clock.js';
import {
  AppStoppedError,
  type Change,
  type Held,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TerminalError,
  TransientError,
} from '../types.js';
import { assignInAccounts, unsettled } from './assign.js';
import { type Clients, Slots } from './client.js';
import { alreadyExists, notFound, translate } from './errors.js';
import { type CenterState, observeCenter, slot } from './observe.js';
import { userId } from './read.js';
import type { AwsIdentityCenterConnector, AwsIdentityCenterEntitlement } from './settings.generated.js';

export interface SessionOptions {
  app: string;
  settings: AwsIdentityCenterConnector;
  entitlements: AwsIdentityCenterEntitlement[];
  clock: Clock;
  assignmentTimeoutMs: number;
}

/**
 * One IAM Identity Center instance as an app: Identity Store group
 * membership, and permission sets assigned to users in AWS accounts. Users
 * are never created or deleted; groups and permission sets must exist.
 */
export class CenterSession implements Session {
  /** A few changes at once: assignments spend most of their time waiting on AWS, and writes are paced anyway. */
  readonly concurrency = 4;
  readonly notices: string[] = [];
  private state: CenterState | undefined;
  /** AWS allows ten outstanding assignment requests at once. */
  private readonly slots = new Slots(10);

  constructor(
    readonly clients: Clients,
    private readonly options: SessionOptions,
  ) {}

  async observe(): Promise<Held[]> {
    try {
      const { state, held } = await observeCenter(
        this.clients,
        this.options.settings,
        this.options.entitlements,
        (text) => {
          if (!this.notices.includes(text)) this.notices.push(text);
        },
      );
      this.state = state;
      return held;
    } catch (e) {
      const error = translate(e, 'reading IAM Identity Center');
      if (error instanceof TransientError) throw error;
      throw new ObserveError(`cannot read IAM Identity Center: ${error.message}`, { cause: e });
    }
  }

  private entitlement(c: Change): AwsIdentityCenterEntitlement {
    return this.options.entitlements.find((e) => e.id === c.entitlement)!;
  }

  /** One step per change: a membership is one request; an assignment, one per account and its status reads. */
  steps(changes: Change[]): Step[] {
    return changes.map((change) => {
      // Assignment requests in flight, kept across retries of the step.
      const pending = new Map<string, string>();
      return { changes: [change], run: async () => [{ change, outcome: await this.run(change, pending) }] };
    });
  }

  private async run(change: Change, pending: Map<string, string>): Promise<Outcome> {
    const e = this.entitlement(change);
    const grant = change.action === 'grant';
    const what =
      e.kind === 'group'
        ? `${grant ? 'adding' : 'removing'} ${change.account} ${grant ? 'to' : 'from'} group ${JSON.stringify(e.group)}`
        : `${grant ? 'assigning' : 'removing'} permission set ${e.permissionSet} ${grant ? 'to' : 'from'} ${change.account} in ${(e.accounts ?? []).join(', ')}`;
    try {
      if (!this.state) throw new TerminalError('the app was not observed');
      return e.kind === 'group'
        ? await this.membership(this.state, change, e)
        : await this.permissionSet(this.state, change, e, pending);
    } catch (error) {
      // The connector's own refusals (no such user, an assignment AWS failed) say what was being done too.
      if (error instanceof TerminalError && !(error instanceof AppStoppedError))
        throw new TerminalError(`${what}: ${error.message}`, { cause: error });
      throw translate(error, what);
    }
  }

  /** The user's id: from the listing, else asked by name (a user made since); none is this change's error. */
  private async user(state: CenterState, account: string, grant: boolean): Promise<string | undefined> {
    const known = state.users.get(account.toLowerCase());
    if (known) return known.id;
    if (!grant) return undefined;
    const id = await userId(this.clients, state.instance.identityStoreId, account);
    if (id === undefined) {
      const { app } = this.options;
      throw new TerminalError(
        `no user named ${JSON.stringify(account)} in the Identity Store of ${app}: iden never creates users; create or sync them in IAM Identity Center, or give their user name as accounts.${app} in _people.yaml`,
      );
    }
    state.users.set(account.toLowerCase(), { id, name: account });
    return id;
  }

  private async membership(
    state: CenterState,
    change: Change,
    e: AwsIdentityCenterEntitlement,
  ): Promise<Outcome> {
    const group = state.groups.get(e.group!)!;
    const IdentityStoreId = state.instance.identityStoreId;
    const grant = change.action === 'grant';
    const user = await this.user(state, change.account, grant);
    if (user === undefined) return 'unchanged';
    if (grant) {
      if (group.members.has(user)) return 'unchanged';
      try {
        const out = await this.clients.store.send(
          new CreateGroupMembershipCommand({
            IdentityStoreId,
            GroupId: group.id,
            MemberId: { UserId: user },
          }),
        );
        group.members.set(user, out.MembershipId!);
        return 'granted';
      } catch (error) {
        // Already a member (added since iden read the group): what was asked for holds.
        if (alreadyExists(error)) return 'unchanged';
        throw error;
      }
    }
    const MembershipId = group.members.get(user);
    if (MembershipId === undefined) return 'unchanged';
    try {
      await this.clients.store.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId }));
    } catch (error) {
      if (!notFound(error)) throw error;
      group.members.delete(user);
      return 'unchanged';
    }
    group.members.delete(user);
    return 'revoked';
  }

  private async permissionSet(
    state: CenterState,
    change: Change,
    e: AwsIdentityCenterEntitlement,
    pending: Map<string, string>,
  ): Promise<Outcome> {
    const arn = state.permissionSets.get(e.permissionSet!)!;
    const grant = change.action === 'grant';
    const user = await this.user(state, change.account, grant);
    if (user === undefined) return 'unchanged';
    const holders = (account: string) => state.direct.get(slot(arn, account))!;
    const todo = (e.accounts ?? []).filter((a) => holders(a).has(user) !== grant);
    if (todo.length === 0 && pending.size === 0) return 'unchanged';
    const settled = await assignInAccounts(
      {
        clients: this.clients,
        instanceArn: state.instance.instanceArn,
        slots: this.slots,
        clock: this.options.clock,
        timeoutMs: this.options.assignmentTimeoutMs,
      },
      { action: change.action, permissionSetArn: arn, userId: user },
      todo,
      pending,
      (account) => (grant ? holders(account).add(user) : holders(account).delete(user)),
    );
    const why = unsettled(settled, this.options.assignmentTimeoutMs);
    if (why) throw new TerminalError(why);
    return grant ? 'granted' : 'revoked';
  }

  async close(): Promise<void> {
    this.clients.store.destroy();
    this.clients.admin.destroy();
  }
}
