import { groupBy } from '../../util/group-by.js';
import { type Change, type Held, ObserveError, type Session, type Step, TransientError } from '../types.js';
import type { OktaClient } from './client.js';
import { Directory } from './directory.js';
import { type CredentialHint, translate } from './errors.js';
import { changeKey, keyOf, type Mapping } from './mapping.js';
import {
  emptyState,
  heldOf,
  lastLogins,
  type OrgState,
  readOrg,
  rulesFeeding,
  SettingsError,
} from './observe.js';
import { Writer } from './writes.js';

/**
 * One Okta org as one app: the groups, app assignments and admin roles its
 * mappings name. Users are Okta's own lifecycle: never created or deleted.
 */
export class OktaSession implements Session {
  /** Requests overlap a little; the pacer keeps each bucket within iden's share. */
  readonly concurrency = 4;
  readonly notices: string[] = [];
  private state: OrgState = emptyState();
  private readonly byKey: Map<string, Mapping>;

  constructor(
    private readonly client: OktaClient,
    private readonly mappings: Mapping[],
    private readonly appId: string,
    private readonly hint: CredentialHint,
    /** iden import: each account's profile (name, email, department, title, manager) comes with it. */
    private readonly importing = false,
  ) {
    this.byKey = new Map(mappings.map((m) => [keyOf(m), m]));
  }

  private get host(): string {
    return new URL(this.client.base).host;
  }

  async observe(): Promise<Held[]> {
    const state = emptyState();
    try {
      await readOrg(this.client, this.mappings, state);
    } catch (e) {
      if (e instanceof SettingsError)
        throw new ObserveError(`Okta org ${this.host}: ${e.message}`, { cause: e });
      // A passing failure (a 429, an outage) is retried by the run; anything else skips the app.
      const error = translate(e, `reading Okta org ${this.host}`, this.hint);
      if (error instanceof TransientError) throw error;
      throw new ObserveError(error.message, { cause: e });
    }
    this.state = state;
    this.found = undefined;
    this.tellRules();
    return heldOf(state, this.mappings, this.importing);
  }

  /** The lastLogin of each user observe read: no request of its own. */
  async lastUsed(): Promise<ReadonlyMap<string, string | null>> {
    return lastLogins(this.state);
  }

  /** Says once which managed groups a group rule feeds, and what iden then leaves alone. */
  private tellRules(): void {
    for (const group of this.state.groups.values()) {
      if (group.rules.length === 0) continue;
      const fed = [...group.members.keys()].filter((id) => rulesFeeding(group, id).length > 0).length;
      const names = group.rules.map((r) => JSON.stringify(r.name ?? r.id)).join(', ');
      const text = `group ${group.name} is also fed by group rule ${names}: its ${fed} member${fed === 1 ? '' : 's'} the rule may have added count as held through the rule, and iden removes none of them (Okta would put them on the rule's exclusions); change the rule or their profile to end that access`;
      if (!this.notices.includes(text)) this.notices.push(text);
    }
  }

  /**
   * One step per person and group, person and app, and role change: each a
   * single request, retried alone. The people the grants name are looked up
   * together when the first step needs one.
   */
  steps(changes: Change[]): Step[] {
    const writer = new Writer(this.client, this.state, this.directory(), this.byKey, this.hint);
    this.client.rates.writesLeft = changes.length;
    this.directory().want(changes.filter((c) => c.action === 'grant').map((c) => c.account));
    const kindOf = (c: Change) => this.byKey.get(changeKey(c))?.kind;
    const byTarget = (c: Change) => `${c.account.toLowerCase()}\u0000${this.state.targets.get(changeKey(c))}`;
    const steps: Step[] = [];
    for (const batch of groupBy(
      changes.filter((c) => kindOf(c) === 'group'),
      byTarget,
    ).values())
      steps.push({ changes: batch, run: () => writer.group(batch) });
    for (const batch of groupBy(
      changes.filter((c) => kindOf(c) === 'app'),
      byTarget,
    ).values())
      steps.push({ changes: batch, run: () => writer.app(batch) });
    for (const change of changes.filter((c) => kindOf(c) === 'role'))
      steps.push({ changes: [change], run: () => writer.role(change) });
    for (const change of changes.filter((c) => kindOf(c) === undefined))
      steps.push({
        changes: [change],
        run: async () => {
          writer.mapping(change);
          return [{ change, outcome: 'failed' }];
        },
      });
    return steps;
  }

  private found: Directory | undefined;
  private directory(): Directory {
    this.found ??= new Directory(
      this.client,
      this.state.users,
      (login) =>
        `no Okta user with login ${login} in ${this.host}: iden never creates Okta users; create the user in Okta, or give their Okta login as accounts.${this.appId} in _people.yaml`,
    );
    return this.found;
  }

  async close(): Promise<void> {}
}

export type { CredentialHint };
