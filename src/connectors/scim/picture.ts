import { accountFor } from '../../model/accounts.js';
import { type Change, type ConnectorContext, type Held, ObserveError, TransientError } from '../types.js';
import { type Capabilities, readCapabilities } from './config.js';
import {
  decideUser,
  mayDeactivate,
  type Ownership,
  outsideScope,
  ownership,
  type UserFacts,
  type UserPlan,
} from './decide.js';
import { heldOf } from './held.js';
import { findGroups, listAll, type ScimGroup, type ScimUser } from './read.js';
import { type ScimClient, translate } from './transport.js';
import type { Form, Mapping, PersonInfo } from './users.js';

/**
 * The session's picture of the service: what it offers, its Users and the
 * managed groups as observed and then as the run's writes leave them, whose
 * each User is, and the one judge of what to do to a User.
 */
export class Picture {
  caps: Capabilities = { filter: false, patch: false, bulkMax: 0, etag: false };
  users = new Map<string, ScimUser>();
  groups = new Map<string, ScimGroup>();
  /** Every group of the service, read once a run when a User's other groups must be known. */
  private allGroups: ScimGroup[] | undefined;
  /** The mappings observed: the declared ones and the retired ones that can still be seen. */
  mappings: Mapping[];
  /** The directory's accounts in this app (lower case): the Users whose managed values iden changes. */
  private readonly accounts = new Set<string>();
  private readonly adopt: ReadonlySet<string>;

  constructor(
    private readonly client: ScimClient,
    private readonly declared: Mapping[],
    private readonly context: ConnectorContext,
    readonly app: string,
  ) {
    this.mappings = declared;
    for (const person of context.people?.values() ?? []) {
      const account = accountFor(person, app, 'email');
      if (account) this.accounts.add(account.toLowerCase());
    }
    this.adopt = new Set([...(context.adopt ?? [])].map((a) => a.toLowerCase()));
  }

  private readonly told = new Set<string>();
  /** Said once, when it happens: while observing or while applying. */
  notice = (text: string) => {
    if (this.told.has(text)) return;
    this.told.add(text);
    this.context.onNotice?.(text);
  };

  own = (user: ScimUser): Ownership => ownership(user, this.context.people, this.adopt);

  /** Reads the service: the session's observe. */
  async read(): Promise<Held[]> {
    try {
      this.caps = await readCapabilities(this.client);
      this.users.clear();
      this.allGroups = undefined;
      for (const user of await listAll<ScimUser>(this.client, '/Users', this.notice))
        this.users.set(user.userName.toLowerCase(), user);
      const names = [...new Set(this.declared.flatMap((m) => (m.group ? [m.group] : [])))];
      this.groups = await findGroups(this.client, names, this.caps.filter, this.notice);
    } catch (e) {
      // A passing failure (429, an outage page, no answer) is retried by the run; anything else skips the app.
      const error = translate(e, 'reading the SCIM service');
      if (error instanceof TransientError) throw error;
      throw new ObserveError(`cannot read the SCIM service: ${(e as Error).message}`, { cause: e });
    }
    const gone = (m: Mapping) => m.group !== undefined && !this.groups.has(m.group);
    const missing = this.declared.find((m) => gone(m) && !m.retired);
    if (missing)
      throw new ObserveError(
        `no group named ${JSON.stringify(missing.group)} (${missing.license ? 'tier' : 'entitlement'} ${missing.id}); create it in the app, or correct the group's name in grants/${this.app}/_app.yaml`,
      );
    // A mapping no longer declared whose group has gone holds nothing to take away: it never blocks the app.
    for (const m of this.declared.filter(gone))
      this.notice(
        `no group named ${JSON.stringify(m.group)}, which ${m.id.replace(/@retired(-\d+)?$/, '')} mapped to before _app.yaml changed: nothing there to revoke, left out`,
      );
    this.mappings = this.declared.filter((m) => !gone(m));
    if (!this.caps.patch)
      this.notice('the service does not offer PATCH: whole Users and Groups are replaced (PUT)');
    return this.held();
  }

  /** What the app holds in its managed scope (of every User, or of one); strangers are reported once and left alone. */
  held(only?: ScimUser): Held[] {
    const { held, strangers } = heldOf({
      users: only ? [only] : this.users.values(),
      groups: this.groups,
      mappings: this.mappings,
      ownership: this.own,
      isAccount: (u) => this.accounts.has(u.userName.toLowerCase()),
      importing: this.context.importing === true,
    });
    if (strangers.length > 0 && !only) {
      const some = strangers.slice(0, 5).join(', ');
      this.notice(
        `${strangers.length} User${strangers.length === 1 ? '' : 's'} that iden did not create and that ${strangers.length === 1 ? 'is' : 'are'} no one's account in grants/_people.yaml hold${strangers.length === 1 ? 's' : ''} managed access: left alone (${some}${strangers.length > 5 ? ', …' : ''})`,
      );
    }
    return held;
  }

  mappingOf = (c: Change): Mapping =>
    this.mappings.find(
      (m) => m.id === (c.entitlement ?? c.license) && m.license === (c.license !== undefined),
    )!;

  /** What a User decision rests on, but for what it holds outside the managed scope. */
  facts(user: ScimUser, all: Change[]): Omit<UserFacts, 'other' | 'form'> {
    const gone = new Set(all.map((c) => c.entitlement ?? c.license));
    return {
      app: this.app,
      user,
      own: this.own(user),
      person: this.context.people?.get(all[0]!.user) as PersonInfo | undefined,
      grant: all[0]!.action === 'grant',
      changes: all.filter((c) => this.mappingOf(c).group === undefined),
      mappingOf: this.mappingOf,
      nothingLeft: this.held(user).every((h) => gone.has(h.entitlement ?? h.license)),
    };
  }

  /** What a User holds that iden does not manage, read fresh: its roles and entitlements, and its groups. */
  private async otherAccess(user: ScimUser): Promise<string | undefined> {
    const { data: fresh } = await this.client.call<ScimUser>('GET', `/Users/${user.id}`);
    let memberOf: { id: string; name: string }[];
    if (Array.isArray(fresh.groups))
      memberOf = fresh.groups.map((g) => ({ id: g.value, name: g.display ?? g.value }));
    else {
      // The service does not say a User's groups: every group is read (once a run) to find them.
      this.allGroups ??= await listAll<ScimGroup>(this.client, '/Groups', this.notice);
      memberOf = this.allGroups
        .filter((g) => (g.members ?? []).some((m) => m.value === user.id))
        .map((g) => ({ id: g.id, name: g.displayName }));
    }
    const managed = new Set([...this.groups.values()].map((g) => g.id));
    const other = outsideScope(fresh, this.mappings, managed, memberOf);
    if (other)
      this.notice(
        `${user.userName} keeps its User active: it holds access iden does not manage (${other}); iden took away only what it manages`,
      );
    return other;
  }

  /** The one judge of a User's operations (in either form), with what it holds outside the scope read when that decides. */
  async judge(user: ScimUser, all: Change[]): Promise<(form: Form) => UserPlan> {
    const facts = this.facts(user, all);
    const other = mayDeactivate(facts) ? await this.otherAccess(user) : undefined;
    return (form) => decideUser({ ...facts, other, form });
  }
}
