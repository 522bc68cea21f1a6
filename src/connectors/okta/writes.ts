import { type Change, type Outcome, type StepResult, TerminalError } from '../types.js';
import type { OktaClient } from './client.js';
import type { Directory } from './directory.js';
import { alreadyAssigned, type CredentialHint, OktaError, translate } from './errors.js';
import { changeKey, keyOf, type Mapping, type ProfileValue, profileMatches } from './mapping.js';
import { type OrgState, rulesFeeding } from './observe.js';
import type { AppUser, RoleAssignment } from './read.js';

const all = (changes: readonly Change[], outcome: Outcome): StepResult[] =>
  changes.map((change) => ({ change, outcome }));
const path = (...parts: string[]) => `/api/v1/${parts.map(encodeURIComponent).join('/')}`;

/**
 * The writes of a run, one request per membership, assignment or role
 * changed, against what observe read (kept current as writes succeed).
 * "Already so" is `unchanged`, never a failure.
 */
export class Writer {
  constructor(
    private readonly client: OktaClient,
    private readonly state: OrgState,
    private readonly directory: Directory,
    private readonly mappings: ReadonlyMap<string, Mapping>,
    private readonly hint: CredentialHint,
  ) {}

  mapping(c: Change): Mapping {
    const m = this.mappings.get(changeKey(c));
    if (!m) throw new TerminalError(`${c.entitlement ?? c.license} is not a mapping of this app`);
    return m;
  }

  /** The Okta user a grant names; a failure to look them up says what it was for. */
  private async find(account: string, what: string) {
    try {
      return await this.directory.find(account);
    } catch (e) {
      throw translate(e, what, this.hint);
    }
  }

  private async send(method: string, route: string, what: string, body?: unknown) {
    try {
      return await this.client.call<unknown>(method, route, body === undefined ? {} : { body });
    } catch (e) {
      throw translate(e, what, this.hint);
    }
  }

  /** One person's membership of one group: one PUT or one DELETE. */
  async group(changes: Change[]): Promise<StepResult[]> {
    const { account, action } = changes[0]!;
    const group = this.state.groups.get(this.state.targets.get(changeKey(changes[0]!))!)!;
    if (action === 'grant') {
      const what = `adding ${account} to Okta group ${group.name}`;
      const u = await this.find(account, what);
      if (group.members.has(u.id)) return all(changes, 'unchanged');
      await this.send('PUT', path('groups', group.id, 'users', u.id), what);
      group.members.set(u.id, u);
      return all(changes, 'granted');
    }
    const u = this.state.users.get(account.toLowerCase());
    if (!u || !group.members.has(u.id)) return all(changes, 'unchanged');
    if (rulesFeeding(group, u.id).length > 0)
      throw new TerminalError(
        `not removing ${account} from Okta group ${group.name}: a group rule feeds it, and removing a rule's member puts them on its exclusion list`,
      );
    try {
      await this.send(
        'DELETE',
        path('groups', group.id, 'users', u.id),
        `removing ${account} from Okta group ${group.name}`,
      );
    } catch (e) {
      if (!(e instanceof TerminalError && e.cause instanceof OktaError && e.cause.status === 404)) throw e;
    }
    group.members.delete(u.id);
    return all(changes, 'revoked');
  }

  /** One person's assignment to one app: one POST (assign or change its profile) or one DELETE. */
  async app(changes: Change[]): Promise<StepResult[]> {
    const { account, action } = changes[0]!;
    const app = this.state.apps.get(this.state.targets.get(changeKey(changes[0]!))!)!;
    const mine = changes.map((c) => this.mapping(c));
    const what = `${action === 'grant' ? 'assigning' : 'unassigning'} ${account} ${action === 'grant' ? 'to' : 'from'} Okta app ${app.label}`;
    const u =
      action === 'grant' ? await this.find(account, what) : this.state.users.get(account.toLowerCase());
    const current = u ? app.users.get(u.id) : undefined;
    if (action === 'grant') {
      const profile = granted(current?.profile, mine, account, app.label);
      if (!current) {
        const body = { id: u!.id, scope: 'USER', ...(Object.keys(profile).length > 0 ? { profile } : {}) };
        const reply = await this.send('POST', path('apps', app.id, 'users'), what, body);
        app.users.set(u!.id, {
          ...(reply.data as AppUser),
          id: u!.id,
          scope: 'USER',
          profile: { ...profile },
        });
        return all(changes, 'granted');
      }
      if (Object.keys(profile).length === 0) return all(changes, 'unchanged');
      await this.send('POST', path('apps', app.id, 'users', u!.id), `${what} (${describe(profile)})`, {
        profile,
      });
      current.profile = { ...current.profile, ...profile };
      return all(changes, 'granted');
    }
    if (!u || !current) return all(changes, 'unchanged');
    const kept = [...this.mappings.values()].filter(
      (m) =>
        m.kind === 'app' &&
        this.state.targets.get(keyOf(m)) === app.id &&
        !mine.includes(m) &&
        profileMatches(current.profile, m.profile),
    );
    if (kept.length === 0) {
      try {
        await this.send('DELETE', path('apps', app.id, 'users', u.id), what);
      } catch (e) {
        if (!(e instanceof TerminalError && e.cause instanceof OktaError && e.cause.status === 404)) throw e;
      }
      app.users.delete(u.id);
      return all(changes, 'revoked');
    }
    const profile = taken(current.profile, mine, kept);
    if (mine.some((m) => !m.profile))
      throw new TerminalError(
        `${what}: ${mine.find((m) => !m.profile)!.id} is any assignment to the app, which ${kept.map((m) => m.id).join(', ')} still needs; grant it with them, or take them too`,
      );
    if (Object.keys(profile).length > 0) {
      await this.send('POST', path('apps', app.id, 'users', u.id), `${what} (${describe(profile)})`, {
        profile,
      });
      current.profile = { ...current.profile, ...profile };
    }
    return all(changes, 'revoked');
  }

  /** One admin role of one person: one POST or one DELETE of the assignment. */
  async role(change: Change): Promise<StepResult[]> {
    const role = this.mapping(change).role!;
    const { account } = change;
    if (change.action === 'grant') {
      const u = await this.find(account, `giving ${account} the Okta admin role ${role}`);
      const roles = this.state.roles.get(u.id) ?? [];
      if (roles.some((r) => r.type === role && r.assignmentType !== 'GROUP'))
        return all([change], 'unchanged');
      try {
        const reply = await this.client.call<RoleAssignment>('POST', path('users', u.id, 'roles'), {
          body: { type: role },
        });
        this.state.roles.set(u.id, [...roles, { ...reply.data, type: role, assignmentType: 'USER' }]);
      } catch (e) {
        if (alreadyAssigned(e)) return all([change], 'unchanged');
        throw translate(e, `giving ${account} the Okta admin role ${role}`, this.hint);
      }
      return all([change], 'granted');
    }
    const u = this.state.users.get(account.toLowerCase());
    const roles = u ? (this.state.roles.get(u.id) ?? []) : [];
    const assignment = roles.find((r) => r.type === role && r.assignmentType !== 'GROUP');
    if (!u || !assignment?.id) return all([change], 'unchanged');
    try {
      await this.send(
        'DELETE',
        path('users', u.id, 'roles', assignment.id),
        `taking the Okta admin role ${role} from ${account}`,
      );
    } catch (e) {
      if (!(e instanceof TerminalError && e.cause instanceof OktaError && e.cause.status === 404)) throw e;
    }
    this.state.roles.set(
      u.id,
      roles.filter((r) => r !== assignment),
    );
    return all([change], 'revoked');
  }
}

const describe = (profile: Record<string, unknown>) =>
  Object.entries(profile)
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
    .join(', ');

/** The profile values to write so the assignment gives every mapping granted; a list attribute gains the value. */
function granted(
  current: Record<string, unknown> | undefined,
  mappings: Mapping[],
  account: string,
  label: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const setBy = new Map<string, string>();
  for (const m of mappings)
    for (const [k, v] of Object.entries(m.profile ?? {})) {
      const have = out[k] ?? current?.[k];
      if (Array.isArray(have)) {
        if (!have.includes(v)) out[k] = [...have, v];
        continue;
      }
      if (setBy.has(k) && out[k] !== v)
        throw new TerminalError(
          `assigning ${account} to Okta app ${label}: ${setBy.get(k)} and ${m.id} set ${k} to different values; a grant can give only one`,
        );
      setBy.set(k, m.id);
      if (have !== v) out[k] = v;
    }
  return out;
}

/** The profile values to write so the assignment no longer gives the mappings taken, keeping what `kept` needs. */
function taken(
  current: Record<string, unknown> | undefined,
  mappings: Mapping[],
  kept: Mapping[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const needed = (k: string, v: ProfileValue) => kept.some((m) => m.profile?.[k] === v);
  for (const m of mappings)
    for (const [k, v] of Object.entries(m.profile ?? {})) {
      if (needed(k, v)) continue;
      const have = out[k] ?? current?.[k];
      if (Array.isArray(have)) out[k] = have.filter((x) => x !== v);
      else if (have === v) out[k] = null;
    }
  return out;
}
