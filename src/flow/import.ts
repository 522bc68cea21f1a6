// `iden import`: what an app already holds, as the grant files that describe
// exactly that, for review in a pull request. Never overwrites a grant file,
// never commits.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ConnectorMeta, Held } from '../connectors/types.js';
import type { HeldProfile } from '../model/access.js';
import { accountFor } from '../model/accounts.js';
import type { AccessRepo, Person } from '../model/repo.js';

/** The contract of `iden import --format json`. */
export interface ImportResult {
  app: string;
  written: string[];
  conflicts: { file: string; reason: string }[];
  unmatched: string[];
  peopleAdded: string[];
  /** Accounts imported that iden did not create: it manages their access, never the accounts themselves. */
  unowned: string[];
  /** With --adopt, those of them added to the app's `adopt:`, for iden to take over once the change is merged. */
  adopt: string[];
  /** People whose attributes (department, title, manager…) the app knew and _people.yaml did not: filled in. Absent when none. */
  attributesFilled?: string[];
}

interface Holding {
  account: string;
  entitlements: Set<string>;
  licenses: Set<string>;
  /** Every assignment is of an account that cannot use it (a role that cannot log in). */
  disabled: boolean;
  /** Why iden does not own the account, when it does not. */
  unowned?: string | undefined;
  /** What the app knows of its person, when it says (importing). */
  profile?: HeldProfile | undefined;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** An id from an email's local part or an account: lowercase, only the characters ids allow. */
export function idFrom(text: string): string {
  const id = text
    .toLowerCase()
    .replace(/@.*$/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return id === '' ? 'admin' : id.slice(0, 100);
}

export interface ImportInput {
  root: string;
  repo: AccessRepo;
  app: { id: string; file: string; value: { adopt?: string[] } };
  people: Person[];
  held: Held[];
  connector: Pick<ConnectorMeta, 'type' | 'caseInsensitiveAccounts' | 'accountDefault'>;
  reason: string;
  addPeople?: boolean;
  adopt?: boolean;
}

export interface ImportPlan {
  result: ImportResult;
  /** The grant files to write, by path. */
  files: Map<string, string>;
  /** People to add to the directory. */
  added: Person[];
  /** Attributes to add to people already in the directory, by id (only keys they do not have). */
  filled: Map<string, Record<string, string | string[]>>;
}

/** The files that describe what the app holds; conflicts, unmatched and unowned accounts said. */
export function planImport(input: ImportInput): ImportPlan {
  const { root, repo, app, people, held, connector, reason } = input;
  const options = { addPeople: input.addPeople, adopt: input.adopt };
  const fold = (account: string) => (connector.caseInsensitiveAccounts ? account.toLowerCase() : account);
  const holdings = new Map<string, Holding>();
  for (const h of held) {
    // Access fed by something iden does not manage (a group rule) is not written as a grant.
    if (h.external !== undefined) continue;
    const key = fold(h.account);
    const holding = holdings.get(key) ?? {
      account: h.account,
      entitlements: new Set<string>(),
      licenses: new Set<string>(),
      disabled: true,
    };
    if (h.entitlement) holding.entitlements.add(h.entitlement);
    if (h.license) holding.licenses.add(h.license);
    holding.disabled &&= h.disabled === true;
    holding.unowned ??= h.unowned;
    holding.profile ??= h.profile;
    holdings.set(key, holding);
  }

  const byAccount = new Map<string, Person>();
  for (const person of people) {
    const account = accountFor(person, app.id, connector.accountDefault);
    if (account !== undefined) byAccount.set(fold(account), person);
  }
  const ids = new Set(people.map((p) => p.id));
  const result: ImportResult = {
    app: app.id,
    written: [],
    conflicts: [],
    unmatched: [],
    peopleAdded: [],
    unowned: [],
    adopt: [],
  };
  const files = new Map<string, string>();
  const added: Person[] = [];
  const personOf = new Map<string, Person>();

  for (const [key, holding] of [...holdings].sort(([a], [b]) => a.localeCompare(b))) {
    let person = byAccount.get(key);
    if (!person && options.addPeople) {
      person = newPerson(
        holding.account,
        app.id,
        connector.type,
        connector.accountDefault === 'email',
        ids,
        holding.profile,
      );
      ids.add(person.id);
      added.push(person);
      result.peopleAdded.push(person.id);
    }
    if (!person) {
      result.unmatched.push(holding.account);
      continue;
    }
    personOf.set(key, person);
    const file = `grants/${app.id}/${person.id}.yaml`;
    const permissions = [...holding.entitlements].sort();
    const licenses = [...holding.licenses].sort();
    const existing = repo.grants.find((g) => g.file === file);
    if (holding.disabled) {
      result.conflicts.push({
        file,
        reason: `${holding.account} holds access it cannot use (it cannot log in); not imported`,
      });
    } else if (existing || existsSync(join(root, file))) {
      const says = existing?.value;
      const same =
        says &&
        JSON.stringify([...(says.permissions ?? [])].sort()) === JSON.stringify(permissions) &&
        (says.license ?? '') === (licenses[0] ?? '') &&
        licenses.length <= 1;
      if (!same)
        result.conflicts.push({
          file,
          reason: `the file exists and says ${says ? describe(says.permissions ?? [], says.license ? [says.license] : []) : 'something that does not validate'}; ${app.id} holds ${describe(permissions, licenses)}; it was left as it is`,
        });
    } else if (licenses.length > 1) {
      result.conflicts.push({
        file,
        reason: `${holding.account} holds several tiers (${licenses.join(', ')}); a grant names one: write it by hand`,
      });
    } else {
      files.set(
        file,
        `user: ${person.id}\napp: ${app.id}\npermissions: [${permissions.join(', ')}]\n${licenses[0] ? `license: ${licenses[0]}\n` : ''}reason: ${JSON.stringify(reason)}\n`,
      );
      result.written.push(file);
      if (holding.unowned) {
        result.unowned.push(holding.account);
        if (options.adopt && !(app.value.adopt ?? []).includes(holding.account))
          result.adopt.push(holding.account);
      }
    }
  }

  const filled = fillAttributes(holdings, personOf, new Set(added), fold, byAccount);
  if (filled.size > 0) result.attributesFilled = [...filled.keys()].sort();
  return { result, files, added, filled };
}

/**
 * The attributes the app knows (department, title, the manager as a person
 * id) that _people.yaml does not have: set on people being added, and
 * returned for people already there (only keys they lack; never changed).
 */
function fillAttributes(
  holdings: Map<string, Holding>,
  personOf: Map<string, Person>,
  added: Set<Person>,
  fold: (account: string) => string,
  /** Everyone in _people.yaml by their account in the app: a manager need not hold anything in it. */
  byAccount: ReadonlyMap<string, Person>,
): Map<string, Record<string, string | string[]>> {
  const filled = new Map<string, Record<string, string | string[]>>();
  for (const [key, holding] of holdings) {
    const person = personOf.get(key);
    const profile = holding.profile;
    if (!person || !profile) continue;
    const known: Record<string, string | string[]> = { ...(profile.attributes ?? {}) };
    const boss = profile.managerAccount && fold(profile.managerAccount);
    const manager = boss && (personOf.get(boss) ?? byAccount.get(boss));
    if (manager && manager.id !== person.id) known.manager = manager.id;
    const had = person.attributes ?? {};
    const missing = Object.fromEntries(Object.entries(known).filter(([k]) => had[k] === undefined));
    if (Object.keys(missing).length === 0) continue;
    if (added.has(person))
      (person as { attributes?: Person['attributes'] }).attributes = { ...had, ...missing };
    else filled.set(person.id, missing);
  }
  return filled;
}

/** Writes what planImport found: new files only (never over one), people and adopted accounts kept in place. */
export function writeImport(root: string, app: { id: string; file: string }, plan: ImportPlan): void {
  const { files, added, result } = plan;
  for (const [file, text] of files) {
    mkdirSync(join(root, 'grants', app.id), { recursive: true });
    writeFileSync(join(root, file), text, { flag: 'wx' });
  }
  if (added.length > 0 || plan.filled.size > 0)
    addPeople(join(root, 'grants', '_people.yaml'), added, plan.filled);
  if (result.adopt.length > 0) addAdopted(join(root, app.file), result.adopt);
}

const describe = (permissions: readonly string[], licenses: readonly string[]) =>
  `[${permissions.join(', ')}]${licenses.length > 0 ? ` with ${licenses.join(', ')}` : ''}`;

/** A person for an account no one has: id from the account; the email when the account is one, else one to fill in. */
function newPerson(
  account: string,
  app: string,
  type: string,
  byEmail: boolean,
  taken: ReadonlySet<string>,
  profile?: HeldProfile,
): Person {
  const known = profile?.email && EMAIL.test(profile.email) ? profile.email : undefined;
  const base = idFrom(account);
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  const email = EMAIL.test(account) ? account : (known ?? `${id}@unknown.invalid`);
  const accounts: Record<string, string> =
    type === 'github'
      ? { github: account }
      : byEmail && email === account
        ? {}
        : id === account
          ? {}
          : { [app]: account };
  return {
    id,
    name: profile?.name || account,
    email,
    ...(Object.keys(accounts).length > 0 ? { accounts } : {}),
  } as Person;
}

/** Appends accounts to the app's `adopt:` list, keeping the file's comments and layout. */
function addAdopted(path: string, accounts: string[]): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const list = doc.get('adopt') as YAMLSeq | undefined;
  if (list) for (const account of accounts) list.items.push(doc.createNode(account));
  else doc.set('adopt', doc.createNode(accounts));
  writeFileSync(path, doc.toString());
}

/** Appends people to the directory and fills attributes of people in it, keeping its comments and layout. */
function addPeople(
  path: string,
  people: Person[],
  filled: Map<string, Record<string, string | string[]>>,
): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const list = doc.get('people') as YAMLSeq;
  for (const item of list.items as YAMLMap[]) {
    const attributes = filled.get(String(item.get('id')));
    if (!attributes) continue;
    const node = item.get('attributes', true) as YAMLMap | undefined;
    if (node) for (const [k, v] of Object.entries(attributes)) node.set(k, doc.createNode(v));
    else {
      const created = doc.createNode(attributes) as YAMLMap;
      created.flow = item.flow === true;
      item.set('attributes', created);
    }
  }
  for (const person of people) {
    const node = doc.createNode(person);
    const accounts = (node as unknown as { get(k: string, keep: true): { flow: boolean } | undefined }).get(
      'accounts',
      true,
    );
    if (accounts) accounts.flow = true;
    list.items.push(node);
  }
  writeFileSync(path, doc.toString());
}
