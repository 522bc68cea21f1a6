import { type Change, type Outcome, type StepResult, TerminalError, TransientError } from '../types.js';
import type { Directory } from './client.js';
import type { Config } from './config.js';
import { dnKey } from './dn.js';
import { describe, passing, resultCode, UnreachableError } from './errors.js';
import { ACCOUNT_DISABLED, addPerson, disablable, findPeople, type People, type Person } from './people.js';
import { type GroupState, valuesOf } from './read.js';

export interface Writer {
  directory: Directory;
  config: Config;
  app: string;
  groups: Map<string, GroupState>;
  people: People;
  /** Whether some app on this directory still grants the account anything at this run's instant. */
  stillGranted: (account: string) => boolean;
  notice: (text: string) => void;
}

/** One change's part of the group's modify: the value added or deleted, or its outcome already known. */
interface Planned {
  change: Change;
  value?: string;
  key?: string;
  done?: Outcome;
  error?: string;
}

const grant = (c: Change) => c.action === 'grant';

/**
 * A group's changes of the run in one modify (adds and deletes together),
 * or as few as maxValuesPerModify allows. When the directory refuses it
 * (one value already there, or gone, or the last member of a groupOfNames),
 * each value is sent alone, so every change gets its own outcome.
 */
export async function writeGroup(w: Writer, group: GroupState, changes: Change[]): Promise<StepResult[]> {
  const missing = changes
    .filter((c) => !w.people.byAccount.has(c.account.toLowerCase()))
    .map((c) => c.account);
  // Entries made since the read are found in one search, not one per person.
  if (missing.length > 0)
    for (const person of await findPeople(w.directory, w.config, missing)) addPerson(w.people, person);
  const planned: Planned[] = [];
  for (const change of changes) planned.push(await plan(w, group, change));
  const pending = planned.filter((p) => p.value !== undefined && p.done === undefined);
  const placeholder = placeholderNeeded(w, group, pending);
  const maximum = w.config.maxValuesPerModify;
  for (let i = 0; i < pending.length; i += maximum) {
    const chunk = pending.slice(i, i + maximum);
    const extra = i + maximum >= pending.length && placeholder ? [placeholder] : [];
    try {
      await w.directory.modify(group.dn, modifications(group, chunk, extra));
      for (const p of chunk) settle(group, p, grant(p.change) ? 'granted' : 'revoked');
      for (const value of extra) group.values.set(dnKey(value), value);
    } catch (e) {
      stopping(e, group);
      for (const p of chunk) await alone(w, group, p);
    }
  }
  return planned.map((p) => ({
    change: p.change,
    outcome: p.done ?? 'failed',
    ...(p.error !== undefined ? { error: p.error } : {}),
  }));
}

function what(group: GroupState, change: Change, app: string): string {
  return `${grant(change) ? 'adding' : 'removing'} ${change.account} ${grant(change) ? 'to' : 'from'} ${group.dn} in ${app}`;
}

async function plan(w: Writer, group: GroupState, change: Change): Promise<Planned> {
  const person = w.people.byAccount.get(change.account.toLowerCase());
  const posix = group.attribute === 'memberUid';
  const shared = w.people.shared.get(change.account.toLowerCase());
  if (shared)
    return {
      change,
      error: `${what(group, change, w.app)}: ${shared.length} entries have ${w.config.accountAttribute}=${change.account} (${shared.join('; ')}), so iden cannot tell which is this person's: make it unique, or narrow peopleBaseDn or peopleFilter`,
    };
  if (!person) {
    // A memberUid that names no entry is that login's membership still: it can be removed by its value.
    if (!grant(change) && posix && w.config.accountAttribute === 'uid')
      return planValue(group, change, change.account);
    if (!grant(change)) return { change, done: 'unchanged' };
    return {
      change,
      error: `${what(group, change, w.app)}: no entry has ${w.config.accountAttribute}=${change.account} under ${w.config.peopleBaseDn}${w.config.peopleFilter ? ` matching ${w.config.peopleFilter}` : ''}; iden never creates directory entries: create the account, or give this person's account with accounts: { ${w.app}: … } in grants/_people.yaml`,
    };
  }
  const value = posix ? person.uid : person.dn;
  if (value === undefined)
    return {
      change,
      error: `${what(group, change, w.app)}: ${person.dn} has no uid, which a posixGroup's memberUid holds`,
    };
  const planned = planValue(group, change, value);
  const disabled = ((person.control ?? 0) & ACCOUNT_DISABLED) !== 0;
  if (grant(change) && disablable(w.config, person) && disabled) {
    const failed = await setEnabled(w, person, true, change);
    if (failed) return failed;
    // Re-enabling is what the grant needed when the membership was already there.
    if (planned.done === 'unchanged') return { change, done: 'granted' };
  }
  if (!grant(change) && planned.done === undefined && lastAccess(w, group, person, change)) {
    const failed = await setEnabled(w, person, false, change);
    // Not disabled: the membership stays too, so the next run removes it and tries again.
    if (failed) return failed;
  }
  return planned;
}

function planValue(group: GroupState, change: Change, value: string): Planned {
  const key = group.attribute === 'memberUid' ? value.toLowerCase() : dnKey(value);
  const stored = group.values.get(key);
  if (grant(change)) return stored !== undefined ? { change, done: 'unchanged' } : { change, value, key };
  // A removal deletes the value as the server stores it (a uniqueMember may carry a #'…'B suffix).
  return stored === undefined ? { change, done: 'unchanged' } : { change, value: stored, key };
}

/** Whether this removal takes away the person's last managed group, with nothing on the directory still granted: offboarding. */
function lastAccess(w: Writer, group: GroupState, person: Person, change: Change): boolean {
  if (!disablable(w.config, person) || ((person.control ?? 0) & ACCOUNT_DISABLED) !== 0) return false;
  if (w.stillGranted(change.account)) return false;
  const keys = { dn: dnKey(person.dn), uid: person.uid?.toLowerCase() ?? '' };
  return [...w.groups.values()].every(
    (g) => g === group || !g.values.has(g.attribute === 'memberUid' ? keys.uid : keys.dn),
  );
}

/** Disables or re-enables an account iden may: userAccountControl read fresh, the one bit changed. */
async function setEnabled(
  w: Writer,
  person: Person,
  enable: boolean,
  change: Change,
): Promise<Planned | undefined> {
  const doing = `${enable ? 're-enabling' : 'disabling'} ${change.account} (${person.dn}) in ${w.app}`;
  try {
    const [entry] = await w.directory.search({
      base: person.dn,
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['userAccountControl'],
    });
    const now = Number(valuesOf(entry ?? { dn: person.dn }, 'userAccountControl')[0] ?? person.control ?? 0);
    const next = enable ? now & ~ACCOUNT_DISABLED : now | ACCOUNT_DISABLED;
    if (next !== now)
      await w.directory.modify(person.dn, [
        { operation: 'replace', attribute: 'userAccountControl', values: [String(next)] },
      ]);
    person.control = next;
    w.notice(
      `${enable ? 're-enabled' : 'disabled'} ${change.account} (${person.dn})${enable ? ': granted again' : ': offboarded, nothing on this directory grants it anything'}`,
    );
    return undefined;
  } catch (e) {
    stopping(e);
    return {
      change,
      error: `${doing}: ${describe(e)}${enable ? '' : '; the membership is kept, so the next run tries again'}`,
    };
  }
}

function placeholderNeeded(w: Writer, group: GroupState, pending: Planned[]): string | undefined {
  const dn = w.config.placeholderMember;
  if (dn === undefined || group.attribute === 'memberUid' || group.values.has(dnKey(dn))) return undefined;
  const left = new Set(group.values.keys());
  for (const p of pending) if (grant(p.change)) left.add(p.key!);
  for (const p of pending) if (!grant(p.change)) left.delete(p.key!);
  return left.size === 0 ? dn : undefined;
}

function modifications(group: GroupState, chunk: Planned[], extra: string[]) {
  const adds = [...chunk.filter((p) => grant(p.change)).map((p) => p.value!), ...extra];
  const deletes = chunk.filter((p) => !grant(p.change)).map((p) => p.value!);
  return [
    ...(adds.length > 0 ? [{ operation: 'add' as const, attribute: group.attribute, values: adds }] : []),
    ...(deletes.length > 0
      ? [{ operation: 'delete' as const, attribute: group.attribute, values: deletes }]
      : []),
  ];
}

function settle(group: GroupState, p: Planned, outcome: Outcome): void {
  p.done = outcome;
  if (outcome === 'granted') group.values.set(p.key!, p.value!);
  if (outcome === 'revoked') group.values.delete(p.key!);
}

/** One value on its own: "already a member" and "not a member" are outcomes, not failures. */
async function alone(w: Writer, group: GroupState, p: Planned): Promise<void> {
  const adding = grant(p.change);
  try {
    await w.directory.modify(group.dn, modifications(group, [p], []));
    settle(group, p, adding ? 'granted' : 'revoked');
    return;
  } catch (e) {
    stopping(e, group);
    const code = resultCode(e);
    if (adding && (code === 20 || code === 68)) return settle(group, p, 'unchanged');
    if (!adding && code === 16) return settle(group, p, 'unchanged');
    // Active Directory answers unwillingToPerform to removing a value that is not there; ask before calling it that.
    if (!adding && code === 53 && !(await w.directory.compare(group.dn, group.attribute, p.value!)))
      return settle(group, p, 'unchanged');
    if (!adding && code === 65) {
      const placeholder = w.config.placeholderMember;
      if (placeholder !== undefined) return withPlaceholder(w, group, p, placeholder);
      p.error = `${what(group, p.change, w.app)}: ${describe(e)}; ${group.dn} would have no member left, which its object class forbids: add another member first, or set placeholderMember in the connector to a DN iden may leave in emptied groups`;
      return;
    }
    p.error = `${what(group, p.change, w.app)}: ${describe(e)}`;
  }
}

/** The last member's removal, with the placeholder added in the same modify so the group is never empty. */
async function withPlaceholder(w: Writer, group: GroupState, p: Planned, placeholder: string): Promise<void> {
  try {
    await w.directory.modify(group.dn, modifications(group, [p], [placeholder]));
    group.values.set(dnKey(placeholder), placeholder);
    settle(group, p, 'revoked');
  } catch (e) {
    stopping(e, group);
    p.error = `${what(group, p.change, w.app)} with placeholder ${placeholder} added: ${describe(e)}`;
  }
}

/**
 * Failures no single value explains: the connection, iden's rights on the
 * group. They stop the step (or the app). A missing entry (32) is not one:
 * Active Directory says so of a member value whose entry has gone, too.
 */
function stopping(e: unknown, group?: GroupState): void {
  if (e instanceof UnreachableError) throw e;
  const code = resultCode(e);
  if (passing(e))
    throw new TransientError(
      `${group ? `changing the members of ${group.dn}` : 'writing'}: ${describe(e)}`,
      undefined,
      { cause: e },
    );
  if (group && code === 50)
    throw new TerminalError(
      `the bind account may not change ${group.attribute} of ${group.dn} (${describe(e)}): give it write access to that attribute (see the connector's README)`,
      { cause: e },
    );
}
