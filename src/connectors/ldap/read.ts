import { escapeFilter } from 'ldapts';
import type { Directory, LdapEntry } from './client.js';
import type { Config, Mapping, MemberAttribute } from './config.js';
import { dnKey, withoutUid } from './dn.js';
import { resultCode } from './errors.js';

/** A managed group as read: where it is, which attribute lists its members, and each member value as stored. */
export interface GroupState {
  mapping: Mapping;
  dn: string;
  attribute: MemberAttribute;
  /** Each member value as the server stores it, by its key (dnKey for DNs, the lower-cased uid for memberUid). */
  values: Map<string, string>;
}

/** A group a mapping names that is not there, or cannot be managed as it is: the app cannot be read. */
export class GroupError extends Error {
  override readonly name = 'GroupError';
}

/** Active Directory's default MaxValRange: it answers at most this many values of one attribute at a time. */
export const RANGE = 1500;

const STYLES: [string, MemberAttribute][] = [
  ['groupofnames', 'member'],
  ['group', 'member'],
  ['groupofuniquenames', 'uniqueMember'],
  ['posixgroup', 'memberUid'],
];

/** An attribute's values, whatever the server named it (attribute names compare without case). */
export function valuesOf(entry: LdapEntry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.toLowerCase() !== wanted) continue;
    const list = Array.isArray(value) ? value : [value];
    return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
  }
  return [];
}

/** The ranged part of a member attribute the server sent (`member;range=0-1499`): its values and where it ends. */
function rangedPart(
  entry: LdapEntry,
  attribute: string,
): { values: string[]; high: number | '*' } | undefined {
  const pattern = new RegExp(`^${attribute};range=(\\d+)-(\\d+|\\*)$`, 'i');
  for (const [key, value] of Object.entries(entry)) {
    const match = pattern.exec(key);
    const list = (Array.isArray(value) ? value : [value]).map(String);
    if (!match || list.length === 0) continue;
    return { values: list, high: match[2] === '*' ? '*' : Number(match[2]) };
  }
  return undefined;
}

function memberKey(attribute: MemberAttribute, value: string): string {
  return attribute === 'memberUid' ? value.toLowerCase() : dnKey(withoutUid(value));
}

/** Reads the group a mapping names, every member value included (following ranges); throws GroupError when it cannot be managed. */
export async function readGroup(
  directory: Directory,
  config: Config,
  mapping: Mapping,
): Promise<GroupState | undefined> {
  const ad = config.flavor === 'active-directory';
  const attributes = [
    'objectClass',
    ...(ad ? [`member;range=0-${RANGE - 1}`] : ['member', 'uniqueMember', 'memberUid']),
  ];
  const what = mapping.dn ?? `the group named ${JSON.stringify(mapping.name)} under ${config.groupsBaseDn}`;
  let entries: LdapEntry[];
  try {
    entries = mapping.dn
      ? await directory.search({ base: mapping.dn, scope: 'base', filter: '(objectClass=*)', attributes })
      : await directory.search({
          base: config.groupsBaseDn,
          scope: 'sub',
          filter: ad
            ? escapeFilter`(&(objectClass=group)(|(cn=${mapping.name!})(sAMAccountName=${mapping.name!})))`
            : escapeFilter`(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))(cn=${mapping.name!}))`,
          attributes,
        });
  } catch (e) {
    if (resultCode(e) !== 32) throw e;
    entries = [];
  }
  const kind = mapping.license ? 'tier' : 'entitlement';
  if (entries.length === 0) {
    // A mapping the app no longer declares names a group that has gone: nobody holds it.
    if (mapping.retired) return undefined;
    throw new GroupError(
      `${what} (${kind} ${mapping.id}) does not exist: create it, or correct ${mapping.dn ? 'dn' : 'name'} in _app.yaml (iden never creates groups)`,
    );
  }
  if (entries.length > 1)
    throw new GroupError(
      `${entries.length} groups are named ${JSON.stringify(mapping.name)} under ${config.groupsBaseDn} (${entries.map((e) => e.dn).join('; ')}): give ${kind} ${mapping.id} the dn of the one it means`,
    );
  const entry = entries[0]!;
  const attribute = styleOf(entry, mapping, kind);
  const values = new Map<string, string>();
  const keep = (list: string[]) => {
    for (const value of list) values.set(memberKey(attribute, value), value);
  };
  const part = rangedPart(entry, attribute);
  if (part) {
    keep(part.values);
    let high = part.high;
    // Active Directory sends a large group's members a range at a time, and says where each ends.
    while (high !== '*') {
      const low = high + 1;
      const [next] = await directory.search({
        base: entry.dn,
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [`${attribute};range=${low}-${low + RANGE - 1}`],
      });
      const more = next && rangedPart(next, attribute);
      if (!more) break;
      if (more.high !== '*' && more.high < low)
        throw new GroupError(
          `${entry.dn}: the server answered range ${low}- with one ending at ${more.high}`,
        );
      keep(more.values);
      high = more.high;
    }
  } else keep(valuesOf(entry, attribute));
  return { mapping, dn: entry.dn, attribute, values };
}

function styleOf(entry: LdapEntry, mapping: Mapping, kind: string): MemberAttribute {
  const classes = new Set(valuesOf(entry, 'objectClass').map((c) => c.toLowerCase()));
  const offered = [...new Set(STYLES.filter(([c]) => classes.has(c)).map(([, a]) => a))];
  if (mapping.memberAttribute) {
    if (offered.includes(mapping.memberAttribute)) return mapping.memberAttribute;
    throw new GroupError(
      `${entry.dn} (${kind} ${mapping.id}) has no ${mapping.memberAttribute} in its object classes (${[...classes].join(', ')})`,
    );
  }
  if (offered.length === 1) return offered[0]!;
  if (offered.length === 0)
    throw new GroupError(
      `${entry.dn} (${kind} ${mapping.id}) is not a group iden can manage (object classes ${[...classes].join(', ')}): iden manages groupOfNames, groupOfUniqueNames, posixGroup and Active Directory groups, not dynamic ones`,
    );
  throw new GroupError(
    `${entry.dn} (${kind} ${mapping.id}) keeps members in ${offered.join(' and ')}: say which one iden manages with memberAttribute`,
  );
}
