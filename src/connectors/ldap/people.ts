import { escapeFilter } from 'ldapts';
import type { Directory, LdapEntry } from './client.js';
import type { Config } from './config.js';
import { dnKey, isUnder } from './dn.js';
import { resultCode } from './errors.js';
import { valuesOf } from './read.js';

/** A person's directory entry: iden changes which groups list it, and on Active Directory (when told) whether it is enabled. */
export interface Person {
  dn: string;
  /** The values of the account attribute (mail can hold several). */
  accounts: string[];
  /** Its uid: what a posixGroup's memberUid holds. */
  uid: string | undefined;
  /** Active Directory's userAccountControl, when read. */
  control: number | undefined;
  /** Only when importing: the entry's name, mail, department, title and manager (a DN), for _people.yaml. */
  profile?: { name?: string; email?: string; department?: string; title?: string; manager?: string };
}

export interface People {
  byDn: Map<string, Person>;
  /** By each account value, lower-cased: the attributes iden finds people by compare without case. */
  byAccount: Map<string, Person>;
  byUid: Map<string, Person>;
  /** Accounts (lower-cased) that more than one entry holds, with their DNs: iden cannot tell which is the person's. */
  shared: Map<string, string[]>;
}

/** Active Directory's ACCOUNTDISABLE bit of userAccountControl. */
export const ACCOUNT_DISABLED = 0x2;

/** The filter a person's entry matches: has the account attribute, is a user on Active Directory, and the app's own filter. */
export function personFilter(config: Config, account?: string): string {
  const attribute = config.accountAttribute;
  const has = account === undefined ? `(${attribute}=*)` : escapeFilter`(${attribute}=${account})`;
  const user = config.flavor === 'active-directory' ? '(objectCategory=person)(objectClass=user)' : '';
  return `(&${user}${has}${config.peopleFilter ?? ''})`;
}

/** What iden import also reads of a person: inetOrgPerson's and Active Directory's names for them. */
const PROFILE = ['displayName', 'cn', 'mail', 'department', 'departmentNumber', 'title', 'manager'];

function attributes(config: Config, importing = false): string[] {
  return [
    config.accountAttribute,
    'uid',
    ...(config.flavor === 'active-directory' ? ['userAccountControl'] : []),
    ...(importing ? PROFILE : []),
  ];
}

function toPerson(entry: LdapEntry, config: Config, importing = false): Person {
  const control = valuesOf(entry, 'userAccountControl')[0];
  const first = (name: string) => valuesOf(entry, name)[0];
  const profile = importing
    ? Object.fromEntries(
        Object.entries({
          name: first('displayName') ?? first('cn'),
          email: first('mail'),
          department: first('department') ?? first('departmentNumber'),
          title: first('title'),
          manager: first('manager'),
        }).filter(([, v]) => v !== undefined && v !== ''),
      )
    : undefined;
  return {
    dn: entry.dn,
    accounts: valuesOf(entry, config.accountAttribute),
    uid: valuesOf(entry, 'uid')[0],
    control: control === undefined ? undefined : Number(control),
    ...(profile ? { profile } : {}),
  };
}

export function emptyPeople(): People {
  return { byDn: new Map(), byAccount: new Map(), byUid: new Map(), shared: new Map() };
}

export function addPerson(people: People, person: Person): void {
  people.byDn.set(dnKey(person.dn), person);
  for (const account of person.accounts) {
    const key = account.toLowerCase();
    const other = people.byAccount.get(key);
    if (other && dnKey(other.dn) !== dnKey(person.dn))
      people.shared.set(key, [...(people.shared.get(key) ?? [other.dn]), person.dn]);
    people.byAccount.set(key, person);
  }
  if (person.uid !== undefined) people.byUid.set(person.uid.toLowerCase(), person);
}

/** Every person under peopleBaseDn, page by page: how member DNs become accounts. */
export async function readPeople(directory: Directory, config: Config, importing = false): Promise<People> {
  const people = emptyPeople();
  const entries = await directory.search({
    base: config.peopleBaseDn,
    scope: 'sub',
    filter: personFilter(config),
    attributes: attributes(config, importing),
    paged: true,
  });
  for (const entry of entries) addPerson(people, toPerson(entry, config, importing));
  return people;
}

/** People not read yet (their entries were made since), found by account; one search for them all. */
export async function findPeople(
  directory: Directory,
  config: Config,
  accounts: string[],
): Promise<Person[]> {
  if (accounts.length === 0) return [];
  const any = accounts.map((a) => personFilter(config, a)).join('');
  const entries = await directory.search({
    base: config.peopleBaseDn,
    scope: 'sub',
    filter: accounts.length === 1 ? any : `(|${any})`,
    attributes: attributes(config),
    paged: true,
  });
  return entries.map((e) => toPerson(e, config));
}

/** What a member that is no person iden reads turned out to be. */
export type Stranger = 'group' | 'computer' | 'outside' | 'missing' | 'unknown';

/** Member DNs looked up one by one to tell nested groups from the rest; beyond this many, they are only counted. */
export const LOOKUPS = 50;

/** What each member DN that is no person under peopleBaseDn is: a nested group, a computer, someone outside, or nothing. */
export async function classify(directory: Directory, dns: string[]): Promise<Map<string, Stranger>> {
  const kinds = new Map<string, Stranger>();
  for (const dn of dns.slice(0, LOOKUPS)) {
    try {
      const [entry] = await directory.search({
        base: dn,
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['objectClass'],
      });
      const classes = new Set(valuesOf(entry ?? { dn }, 'objectClass').map((c) => c.toLowerCase()));
      kinds.set(
        dn,
        ['group', 'groupofnames', 'groupofuniquenames', 'posixgroup', 'groupofurls'].some((c) =>
          classes.has(c),
        )
          ? 'group'
          : classes.has('computer')
            ? 'computer'
            : entry
              ? 'outside'
              : 'missing',
      );
    } catch (e) {
      if (resultCode(e) !== 32) throw e;
      kinds.set(dn, 'missing');
    }
  }
  for (const dn of dns.slice(LOOKUPS)) kinds.set(dn, 'unknown');
  return kinds;
}

/** Whether iden may disable or re-enable this person's account: Active Directory, and under the container the settings name. */
export function disablable(config: Config, person: Person): boolean {
  return (
    config.disableUnder !== undefined &&
    person.control !== undefined &&
    isUnder(person.dn, config.disableUnder)
  );
}
