import { groupBy } from '../../util/group-by.js';
import {
  type Change,
  type ConnectorContext,
  type Held,
  inOrder,
  ObserveError,
  type Outcome,
  type Session,
  type Step,
  TransientError,
} from '../types.js';
import { type BulkState, bulkPlan, runBulk } from './bulk.js';
import { type Capabilities, readCapabilities } from './config.js';
import { writeMembers } from './groups.js';
import { findGroups, listAll, type ScimGroup, type ScimUser } from './read.js';
import { refusesFilteredPath, type ScimClient, ScimError, translate } from './transport.js';
import {
  attributeOperations,
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
  private caps: Capabilities = { filter: false, patch: false, bulkMax: 0, etag: false };
  private users = new Map<string, ScimUser>();
  private groups = new Map<string, ScimGroup>();
  private attributeForm: Form;
  private memberForm: Form;

  constructor(
    private readonly client: ScimClient,
    private readonly mappings: Mapping[],
    private readonly context: ConnectorContext,
    form: Form,
  ) {
    this.attributeForm = form;
    this.memberForm = form;
  }

  get requests(): number {
    return this.client.requests;
  }

  private readonly told = new Set<string>();
  /** Said once, when it happens: while observing or while applying. */
  private notice = (text: string) => {
    if (this.told.has(text)) return;
    this.told.add(text);
    this.context.onNotice?.(text);
  };

  /** A User iden provisioned: its externalId is a person's id. Only these are ever changed or deactivated. */
  private managed(user: ScimUser): boolean {
    return user.externalId !== undefined && (this.context.people?.has(user.externalId) ?? false);
  }

  async observe(): Promise<Held[]> {
    try {
      this.caps = await readCapabilities(this.client);
      this.users.clear();
      for (const user of await listAll<ScimUser>(this.client, '/Users', this.notice))
        this.users.set(user.userName.toLowerCase(), user);
      const names = [...new Set(this.mappings.flatMap((m) => (m.group ? [m.group] : [])))];
      this.groups = await findGroups(this.client, names, this.caps.filter, this.notice);
    } catch (e) {
      // A passing failure (429, an outage page) is retried by the run; anything else skips the app.
      const error = translate(e, 'reading the SCIM service');
      if (error instanceof TransientError) throw error;
      throw new ObserveError(`cannot read the SCIM service: ${(e as Error).message}`, { cause: e });
    }
    if (!this.caps.patch)
      this.notice('the service does not offer PATCH: whole Users and Groups are replaced (PUT)');
    return this.held();
  }

  private target(m: Mapping) {
    return m.license ? { license: m.id } : { entitlement: m.id };
  }

  /** What managed Users hold; others holding managed access are reported once and left alone. */
  private held(): Held[] {
    const byId = new Map([...this.users.values()].map((u) => [u.id, u]));
    const held: Held[] = [];
    const strangers = new Set<string>();
    const hold = (user: ScimUser, m: Mapping) => {
      // An import describes them too: the first apply of their grants adopts them.
      if (this.managed(user) || this.context.importing)
        held.push({ account: user.userName, ...this.target(m) });
      else strangers.add(user.userName);
    };
    for (const user of this.users.values()) {
      const roles = new Set((user.roles ?? []).map((r) => r.value));
      const entitlements = new Set((user.entitlements ?? []).map((e) => e.value));
      for (const m of this.mappings) {
        if (
          (m.role !== undefined && roles.has(m.role)) ||
          (m.entitlement !== undefined && entitlements.has(m.entitlement))
        )
          hold(user, m);
      }
    }
    for (const m of this.mappings) {
      if (m.group === undefined) continue;
      for (const member of this.groups.get(m.group)?.members ?? []) {
        const user = byId.get(member.value);
        if (user) hold(user, m);
      }
    }
    if (strangers.size > 0) {
      const some = [...strangers].slice(0, 5).join(', ');
      this.notice(
        `${strangers.size} User${strangers.size === 1 ? '' : 's'} iden did not provision (no externalId naming a person) hold managed access: left alone (${some}${strangers.size > 5 ? ', …' : ''})`,
      );
    }
    return held;
  }

  private mappingOf = (c: Change): Mapping =>
    this.mappings.find(
      (m) => m.id === (c.entitlement ?? c.license) && m.license === (c.license !== undefined),
    )!;

  /** What the person holds once `changes` are taken away: empty means their User is deactivated. */
  private leftAfter = (account: string, changes: Change[]): Held[] => {
    const gone = new Set(changes.map((c) => c.entitlement ?? c.license));
    return this.held().filter(
      (h) => h.account.toLowerCase() === account.toLowerCase() && !gone.has(h.entitlement ?? h.license),
    );
  };

  /**
   * Grants: each person's User made ready (created, reactivated, adopted) with
   * their roles and entitlements, then one request per group adding its
   * members. Removals: one request per group, then one per person, which
   * deactivates a User iden provisioned when nothing managed is left. Never DELETE.
   */
  steps(changes: Change[]): Step[] {
    const state: BulkState = {
      users: this.users,
      groups: this.groups,
      people: this.context.people as ReadonlyMap<string, PersonInfo> | undefined,
      mappingOf: this.mappingOf,
      leftAfter: this.leftAfter,
      managed: (u) => this.managed(u),
    };
    const bulk =
      this.attributeForm === 'filter' && this.memberForm === 'filter'
        ? bulkPlan(changes, state, this.caps.bulkMax)
        : undefined;
    if (bulk) return [{ changes, run: () => runBulk(this.client, bulk, changes, state) }];
    const grant = changes[0]?.action === 'grant';
    const groupSteps = [
      ...groupBy(
        changes.filter((c) => this.mappingOf(c).group !== undefined),
        (c) => this.mappingOf(c).group!,
      ),
    ].map(
      ([group, batch]): Step => ({
        changes: batch,
        run: async () => inOrder(batch, await this.patchGroup(group, batch)),
      }),
    );
    // One step per person: their roles and entitlements, and (granting) their User made ready, or
    // (removing) deactivated once nothing is left. A step with no changes of its own only provisions or deactivates.
    const userSteps = [...groupBy(changes, (c) => c.account.toLowerCase()).values()].map((batch): Step => {
      const mine = batch.filter((c) => this.mappingOf(c).group === undefined);
      return { changes: mine, run: async () => inOrder(mine, await this.patchUser(batch, mine, grant)) };
    });
    // A User must exist before a group can name it; removals leave the groups first.
    return grant ? [...userSteps, ...groupSteps] : [...groupSteps, ...userSteps];
  }

  private async patchUser(all: Change[], changes: Change[], provision: boolean): Promise<Outcome[]> {
    const account = all[0]!.account;
    const person = this.context.people?.get(all[0]!.user) as PersonInfo | undefined;
    const what = `${provision ? 'provisioning' : 'updating'} ${account}`;
    try {
      let user = this.users.get(account.toLowerCase());
      if (provision && !user) {
        const created = await this.createUser(account, person, changes);
        if (created.fresh) return changes.map(() => 'granted');
        user = created.user;
      }
      if (!user) return changes.map(() => 'unchanged');
      let active: boolean | undefined;
      const extra: Op[] = [];
      if (provision && user.active === false) active = true;
      // An existing User the person's grant names becomes iden's: marked with their id.
      if (provision && !this.managed(user) && person)
        extra.push({ op: 'replace', path: 'externalId', value: person.id });
      if (
        !provision &&
        this.managed(user) &&
        this.leftAfter(account, changes).length === 0 &&
        user.active !== false
      )
        active = false;
      const ops = (form: Form): Op[] => [
        ...attributeOperations(user!, changes, this.mappingOf, form),
        ...extra,
        ...(active !== undefined ? [{ op: 'replace' as const, path: 'active', value: active }] : []),
      ];
      if (ops(this.attributeForm).length > 0) {
        if (this.caps.patch) {
          try {
            await this.patch(user.id, ops(this.attributeForm));
          } catch (e) {
            if (!(refusesFilteredPath(e) && this.attributeForm === 'filter')) throw e;
            this.attributeForm = 'replace';
            this.notice(
              `the service refused a filtered path (${(e as Error).message}): roles and entitlements are written back whole`,
            );
            await this.patch(user.id, ops('replace'));
          }
        } else {
          // Without PATCH the User is read fresh and replaced whole, guarded by its version.
          const { data: fresh, etag } = await this.client.call<ScimUser>('GET', `/Users/${user.id}`);
          await this.client.call(
            'PUT',
            `/Users/${user.id}`,
            {
              ...replacedUser(fresh, changes, this.mappingOf, active),
              ...(extra.length > 0 && person ? { externalId: person.id } : {}),
            },
            etag,
          );
          user = fresh;
        }
      }
      const next = changedUser(user, changes, this.mappingOf, active);
      if (extra.length > 0 && person) next.externalId = person.id;
      this.users.set(account.toLowerCase(), next);
      return changes.map((c) => (c.action === 'grant' ? 'granted' : 'revoked'));
    } catch (e) {
      throw translate(e, what);
    }
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
        newUser(account, person, changes, this.mappingOf),
      );
      this.users.set(account.toLowerCase(), user);
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
      this.users.set(account.toLowerCase(), existing);
      return { user: existing, fresh: false };
    }
  }

  /** One request per group and run: every member added and removed at once. */
  private async patchGroup(name: string, changes: Change[]): Promise<Outcome[]> {
    const group = this.groups.get(name)!;
    try {
      const ids = (action: 'grant' | 'revoke') =>
        changes
          .filter((c) => c.action === action)
          .map((c) => {
            const user = this.users.get(c.account.toLowerCase());
            if (!user) throw new ScimError(404, undefined, `${c.account} has no User in the app`, undefined);
            return user.id;
          });
      const add = ids('grant');
      const remove = ids('revoke');
      let next: ScimGroup;
      try {
        next = await writeMembers(this.client, group, add, remove, this.memberForm, this.caps.patch);
      } catch (e) {
        if (!(refusesFilteredPath(e) && this.memberForm === 'filter' && remove.length > 0)) throw e;
        this.memberForm = 'replace';
        this.notice(
          `the service refused a filtered path (${(e as Error).message}): group members are written back whole`,
        );
        next = await writeMembers(this.client, group, add, remove, this.memberForm, this.caps.patch);
      }
      this.groups.set(name, next);
      return changes.map((c) => (c.action === 'grant' ? 'granted' : 'revoked'));
    } catch (e) {
      throw translate(e, `updating the members of group ${JSON.stringify(name)}`);
    }
  }

  async close(): Promise<void> {}
}
