import type { HeldProfile } from '../../model/access.js';
import type { Held } from '../types.js';
import type { Directory } from './client.js';
import { type Config, type Mapping, mappingKey } from './config.js';
import { dnKey, withoutUid } from './dn.js';
import {
  ACCOUNT_DISABLED,
  classify,
  disablable,
  type People,
  type Person,
  readPeople,
  type Stranger,
} from './people.js';
import { GroupError, type GroupState, readGroup } from './read.js';

export interface Observed {
  /** By mappingKey: `e:<entitlement>` or `l:<tier>`. */
  groups: Map<string, GroupState>;
  people: People;
  held: Held[];
  notices: string[];
}

/** The account a person is known by: the value of the account attribute that names someone in _people.yaml, else the first. */
export function accountOf(person: Person, known: ReadonlySet<string>): string {
  return person.accounts.find((a) => known.has(a.toLowerCase())) ?? person.accounts[0] ?? person.dn;
}

/**
 * Every managed group whole and every person under peopleBaseDn, then who
 * holds what. Members that are no person iden reads (a nested group, a
 * computer, an entry outside the base or gone) are reported, never counted
 * as people and never removed: a nested group is not flattened into the
 * people in it.
 */
export async function observeDirectory(
  directory: Directory,
  config: Config,
  mappings: Mapping[],
  known: ReadonlySet<string>,
  /** iden import: each person's profile (name, mail, department, title, manager) comes with what they hold. */
  importing = false,
): Promise<Observed> {
  const groups = new Map<string, GroupState>();
  const owners = new Map<string, string>();
  // Declared mappings first: a retired one that names a group still mapped (its DN written another way,
  // or by name now) is that mapping's group, and nobody holds it as retired.
  for (const mapping of [...mappings.filter((m) => !m.retired), ...mappings.filter((m) => m.retired)]) {
    const group = await readGroup(directory, config, mapping);
    if (!group) continue;
    const other = owners.get(dnKey(group.dn));
    if (other !== undefined && mapping.retired) continue;
    if (other !== undefined)
      throw new GroupError(`${other} and ${mapping.id} both name ${group.dn}: map each group once`);
    owners.set(dnKey(group.dn), mapping.id);
    groups.set(mappingKey(mapping), group);
  }
  const people = await readPeople(directory, config, importing);
  const placeholder = config.placeholderMember && dnKey(config.placeholderMember);
  const held: Held[] = [];
  const strangers = new Map<GroupState, string[]>();
  const unnamed = new Map<GroupState, string[]>();
  for (const group of groups.values()) {
    const target = group.mapping.license ? { license: group.mapping.id } : { entitlement: group.mapping.id };
    for (const [key, value] of group.values) {
      if (key === placeholder) continue;
      const person = group.attribute === 'memberUid' ? people.byUid.get(key) : people.byDn.get(key);
      if (person) {
        const disabled = disablable(config, person) && ((person.control ?? 0) & ACCOUNT_DISABLED) !== 0;
        const profile = importing ? profileOf(person, people, known) : undefined;
        held.push({
          account: accountOf(person, known),
          ...target,
          ...(disabled ? { disabled: true } : {}),
          ...(profile ? { profile } : {}),
        });
      } else if (group.attribute === 'memberUid') {
        // A uid with no entry is still a login that holds the group; where accounts are uids it is one.
        if (config.accountAttribute === 'uid') held.push({ account: value, ...target });
        else unnamed.set(group, [...(unnamed.get(group) ?? []), value]);
      } else strangers.set(group, [...(strangers.get(group) ?? []), withoutUid(value)]);
    }
  }
  const kinds = await classify(directory, [...new Set([...strangers.values()].flat())]);
  const notices: string[] = [];
  for (const [group, dns] of strangers) notices.push(...describeStrangers(group, dns, kinds, config));
  for (const [group, uids] of unnamed)
    notices.push(
      `${label(group)} lists memberUid ${list(uids)} that no entry under ${config.peopleBaseDn} has as uid: left alone`,
    );
  return { groups, people, held, notices };
}

function label(group: GroupState): string {
  return `group ${group.dn} (${group.mapping.license ? 'tier' : 'entitlement'} ${group.mapping.id})`;
}

function list(items: string[]): string {
  return items.length > 5 ? `${items.slice(0, 5).join('; ')}; …` : items.join('; ');
}

function describeStrangers(
  group: GroupState,
  dns: string[],
  kinds: Map<string, Stranger>,
  config: Config,
): string[] {
  const of = (kind: Stranger) => dns.filter((dn) => kinds.get(dn) === kind);
  const out: string[] = [];
  const nested = of('group');
  if (nested.length > 0)
    out.push(
      `${label(group)} has nested group${nested.length === 1 ? '' : 's'} ${list(nested)}: a group is reported as a group, not as the people in it; iden neither counts nor removes it`,
    );
  const computers = of('computer');
  if (computers.length > 0)
    out.push(
      `${label(group)} has ${computers.length} computer account(s) as members (${list(computers)}): left alone`,
    );
  const outside = of('outside');
  if (outside.length > 0)
    out.push(
      `${label(group)} has ${outside.length} member(s) that are not people under ${config.peopleBaseDn}${config.peopleFilter ? ` matching ${config.peopleFilter}` : ''} (${list(outside)}): left alone`,
    );
  const missing = of('missing');
  if (missing.length > 0)
    out.push(
      `${label(group)} lists ${missing.length} member(s) whose entries do not exist (${list(missing)}): left alone`,
    );
  const unknown = of('unknown');
  if (unknown.length > 0)
    out.push(
      `${label(group)} has ${unknown.length} more member(s) that are no people iden reads: left alone`,
    );
  return out;
}

/** A person's entry as _people.yaml keeps it; the manager's DN made their account, when they are read too. */
function profileOf(person: Person, people: People, known: ReadonlySet<string>): HeldProfile | undefined {
  const p = person.profile;
  if (!p) return undefined;
  const attributes: Record<string, string> = {};
  if (p.department) attributes.department = p.department;
  if (p.title) attributes.title = p.title;
  const boss = p.manager ? people.byDn.get(dnKey(p.manager)) : undefined;
  return {
    ...(p.name ? { name: p.name } : {}),
    ...(p.email ? { email: p.email } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(boss ? { managerAccount: accountOf(boss, known) } : {}),
  };
}
