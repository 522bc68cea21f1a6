import { groupBy } from '../../util/group-by.js';
import {
  type Change,
  type ConnectorContext,
  type Held,
  type Session,
  type Step,
  type StepResult,
  TerminalError,
} from '../types.js';
import { type BulkState, bulkPlan, runBulk } from './bulk.js';
import { decideUser, refusal, type UserPlan } from './decide.js';
import { writeMembers } from './groups.js';
import { Picture } from './picture.js';
import type { ScimGroup, ScimUser } from './read.js';
import { refusesFilteredPath, type ScimClient, ScimError, translate } from './transport.js';
import {
  changedUser,
  type Form,
  type Mapping,
  newUser,
  type Op,
  PATCH_SCHEMA,
  type PersonInfo,
  replacedUser,
} from './users.js';

/**
 * A SCIM service as one app: Users (created with the person's names and
 * email, marked by externalId = their person id), group membership, roles and
 * entitlements. It adapts to the service: PUT where there is no PATCH, /Bulk
 * where offered, whole lists written back where filtered paths are refused,
 * group listing where the filter fails; and says which form it used.
 */
export class ScimSession implements Session {
  /** Users are created before groups name them, and removals must see the run's grants: one step at a time. */
  readonly concurrency = 1;
  private readonly view: Picture;
  private attributeForm: Form;
  private memberForm: Form;

  constructor(
    private readonly client: ScimClient,
    mappings: Mapping[],
    private readonly context: ConnectorContext,
    options: { app: string; form: Form },
  ) {
    this.view = new Picture(client, mappings, context, options.app);
    this.attributeForm = options.form;
    this.memberForm = options.form;
  }

  observe(): Promise<Held[]> {
    return this.view.read();
  }

  get requests(): number {
    return this.client.requests;
  }

  /**
   * Grants: each person's User made ready (created, reactivated, adopted) with
   * their roles and entitlements, then one request per group adding its
   * members. Removals: one request per group, then one per person, which
   * deactivates a User iden owns when nothing is left. Never DELETE.
   */
  steps(changes: Change[]): Step[] {
    const bulk = this.attributeForm === 'filter' && this.memberForm === 'filter' ? this.view.caps.bulkMax : 0;
    if (bulk >= 2 && bulkPlan(changes, this.bulkState(new Map()), { min: 2, max: bulk }))
      return [{ changes, run: () => this.runBulk(changes) }];
    const grant = changes[0]?.action === 'grant';
    const groupSteps = [
      ...groupBy(
        changes.filter((c) => this.view.mappingOf(c).group !== undefined),
        (c) => this.view.mappingOf(c).group!,
      ),
    ].map(([group, batch]): Step => ({ changes: batch, run: () => this.patchGroup(group, batch) }));
    // One step per person: their roles and entitlements, and (granting) their User made ready, or
    // (removing) deactivated once nothing is left. A step with no changes of its own only provisions or deactivates.
    const userSteps = [...groupBy(changes, (c) => c.account.toLowerCase()).values()].map((batch): Step => {
      const mine = batch.filter((c) => this.view.mappingOf(c).group === undefined);
      return { changes: mine, run: () => this.patchUser(batch, mine) };
    });
    // A User must exist before a group can name it; removals leave the groups first.
    return grant ? [...userSteps, ...groupSteps] : [...groupSteps, ...userSteps];
  }

  private bulkState(decided: Map<string, UserPlan>): BulkState {
    return {
      users: this.view.users,
      groups: this.view.groups,
      people: this.context.people as ReadonlyMap<string, PersonInfo> | undefined,
      mappingOf: this.view.mappingOf,
      // Before the request, each User's plan is made with what it holds read; before that, as if it held nothing else.
      decide: (user, all) =>
        decided.get(user.userName.toLowerCase()) ??
        decideUser({ ...this.view.facts(user, all), other: undefined, form: 'filter' }),
    };
  }

  private async runBulk(changes: Change[]): Promise<StepResult[]> {
    const decided = new Map<string, UserPlan>();
    try {
      for (const [account, all] of groupBy(changes, (c) => c.account.toLowerCase())) {
        const user = this.view.users.get(account);
        if (user) decided.set(account, (await this.view.judge(user, all))('filter'));
      }
    } catch (e) {
      throw translate(e, 'reading what the Users hold before the bulk request');
    }
    const state = this.bulkState(decided);
    return runBulk(this.client, bulkPlan(changes, state, { min: 0, max: Infinity })!, changes, state);
  }

  private async patchUser(all: Change[], changes: Change[]): Promise<StepResult[]> {
    const account = all[0]!.account;
    const grant = all[0]!.action === 'grant';
    const outcome = changes.map((c) => ({ change: c, outcome: grant ? 'granted' : 'revoked' }) as const);
    try {
      let user = this.view.users.get(account.toLowerCase());
      if (grant && !user) {
        const person = this.context.people?.get(all[0]!.user) as PersonInfo | undefined;
        const created = await this.createUser(account, person, changes);
        if (created.fresh) return outcome;
        user = created.user;
      }
      if (!user) return changes.map((change) => ({ change, outcome: 'unchanged' }));
      const judged = await this.view.judge(user, all);
      const plan = judged(this.attributeForm);
      if (plan.refused) throw new TerminalError(plan.refused);
      if (plan.ops.length > 0) user = await this.write(user, changes, judged);
      const next = changedUser(user, changes, this.view.mappingOf, plan.active);
      if (plan.externalId) next.externalId = plan.externalId;
      this.view.users.set(account.toLowerCase(), next);
      return outcome;
    } catch (e) {
      throw translate(e, `${grant ? 'provisioning' : 'updating'} ${account}`);
    }
  }

  /** Sends a User's plan: PATCH (moving to whole lists if filtered paths are refused), or PUT from a fresh read. */
  private async write(
    user: ScimUser,
    changes: Change[],
    judged: (form: Form) => UserPlan,
  ): Promise<ScimUser> {
    const plan = judged(this.attributeForm);
    if (!this.view.caps.patch) {
      // Without PATCH the User is read fresh and replaced whole, guarded by its version.
      const { data: fresh, etag } = await this.client.call<ScimUser>('GET', `/Users/${user.id}`);
      const body = {
        ...replacedUser(fresh, changes, this.view.mappingOf, plan.active),
        ...(plan.externalId ? { externalId: plan.externalId } : {}),
      };
      await this.client.call('PUT', `/Users/${user.id}`, body, etag);
      return fresh;
    }
    try {
      await this.patch(user.id, plan.ops);
    } catch (e) {
      if (!(refusesFilteredPath(e) && this.attributeForm === 'filter')) throw e;
      this.attributeForm = 'replace';
      this.view.notice(
        `the service refused a filtered path (${(e as Error).message}): roles and entitlements are written back whole`,
      );
      await this.patch(user.id, judged('replace').ops);
    }
    return user;
  }

  private patch(id: string, operations: Op[]): Promise<unknown> {
    return this.client.call('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: operations });
  }

  /** The product's "Provision account": a new active User, or the existing one when the service says it exists. */
  private async createUser(
    account: string,
    person: PersonInfo | undefined,
    changes: Change[],
  ): Promise<{ user: ScimUser; fresh: boolean }> {
    try {
      const { data: user } = await this.client.call<ScimUser>(
        'POST',
        '/Users',
        newUser(account, person, changes, this.view.mappingOf),
      );
      this.view.users.set(account.toLowerCase(), user);
      return { user, fresh: true };
    } catch (e) {
      if (!(e instanceof ScimError && e.status === 409)) throw e;
      const filter = encodeURIComponent(`userName eq ${JSON.stringify(account)}`);
      const { data: page } = await this.client.call<{ Resources?: ScimUser[] }>(
        'GET',
        `/Users?filter=${filter}`,
      );
      const existing = page.Resources?.find((u) => u.userName.toLowerCase() === account.toLowerCase());
      if (!existing) throw e;
      this.view.users.set(account.toLowerCase(), existing);
      return { user: existing, fresh: false };
    }
  }

  /**
   * One request per group and run: every member added and removed at once.
   * A member whose User is missing or inactive (its step failed, or iden may
   * not reactivate it) fails alone; one already in the group needs no add.
   */
  private async patchGroup(name: string, changes: Change[]): Promise<StepResult[]> {
    const group = this.view.groups.get(name)!;
    const results: StepResult[] = [];
    const members = new Set((group.members ?? []).map((m) => m.value));
    const add: string[] = [];
    const remove: string[] = [];
    const sent: Change[] = [];
    for (const change of changes) {
      const user = this.view.users.get(change.account.toLowerCase());
      if (change.action === 'revoke') {
        if (!user) results.push({ change, outcome: 'unchanged' });
        else {
          remove.push(user.id);
          sent.push(change);
        }
        continue;
      }
      const why = !user
        ? `${change.account} has no User in the app: creating it failed`
        : user.active === false
          ? (refusal(this.view.app, user, this.view.own(user)) ??
            `${user.userName}'s User is inactive: reactivating it failed`)
          : undefined;
      if (why) results.push({ change, outcome: 'failed', error: why });
      else {
        if (!members.has(user!.id)) add.push(user!.id);
        sent.push(change);
      }
    }
    if (add.length + remove.length > 0) {
      try {
        this.view.groups.set(name, await this.members(group, add, remove));
      } catch (e) {
        throw translate(e, `updating the members of group ${JSON.stringify(name)}`);
      }
    }
    return [
      ...results,
      ...sent.map((c) => ({ change: c, outcome: c.action === 'grant' ? 'granted' : 'revoked' }) as const),
    ];
  }

  private async members(group: ScimGroup, add: string[], remove: string[]): Promise<ScimGroup> {
    try {
      return await writeMembers(this.client, group, add, remove, this.memberForm, this.view.caps.patch);
    } catch (e) {
      if (!(refusesFilteredPath(e) && this.memberForm === 'filter' && remove.length > 0)) throw e;
      this.memberForm = 'replace';
      this.view.notice(
        `the service refused a filtered path (${(e as Error).message}): group members are written back whole`,
      );
      return writeMembers(this.client, group, add, remove, this.memberForm, this.view.caps.patch);
    }
  }

  async close(): Promise<void> {}
}
