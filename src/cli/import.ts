import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { parseDocument, type YAMLSeq } from 'yaml';
import { connectors } from '../connectors/catalog.js';
import type { Held, Session } from '../connectors/types.js';
import { repositoryRoot } from '../git/state.js';
import { loadRepo } from '../load/repo.js';
import { accountFor } from '../model/accounts.js';
import { parseDuration } from '../model/duration.js';
import { atOption } from '../model/instant.js';
import type { Person } from '../model/repo.js';
import { zoneOf } from '../model/time.js';
import { idFrom } from './init.js';
import { DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io, UsageError } from './io.js';

export interface ImportOptions {
  repo?: string;
  app: string;
  at?: string;
  addPeople?: boolean;
  /** Also list the accounts iden did not create in the app's `adopt:`, so the reviewed change hands them over. */
  adopt?: boolean;
  reason?: string;
  dryRun?: boolean;
  format: 'text' | 'json';
  lockTimeout?: string;
}

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
}

interface Holding {
  account: string;
  entitlements: Set<string>;
  licenses: Set<string>;
  /** Every assignment is of an account that cannot use it (a role that cannot log in). */
  disabled: boolean;
  /** Why iden does not own the account, when it does not. */
  unowned?: string | undefined;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * `iden import --app A`: observes the app and writes, for each account that
 * holds its managed entitlements or tiers, the grant file describing exactly
 * that. Never overwrites a grant file, never commits: the admin reviews the
 * files and opens the pull request like any change.
 */
export async function runImport(options: ImportOptions, io: Io, engine: Engine = {}): Promise<number> {
  const root = await repositoryRoot(io.cwd, options.repo);
  const repo = await loadRepo(root);
  const app = repo.apps.get(options.app);
  if (!app)
    throw new UsageError(
      `--app ${options.app}: no app of that id in grants/ (${[...repo.apps.keys()].join(', ')})`,
    );
  if (!app.value) {
    io.stderr(`iden: ${app.file} does not validate; run iden validate and fix it first\n`);
    return EXIT.failed;
  }
  const people = repo.people?.value?.people;
  if (!people) {
    io.stderr('iden: grants/_people.yaml does not validate; run iden validate and fix it first\n');
    return EXIT.failed;
  }
  const registry = engine.registry ?? connectors;
  const connector = registry[app.value.connector.type];
  if (!connector) throw new UsageError(`${app.file}: no connector of type ${app.value.connector.type}`);
  const spec = { id: app.id, file: app.value };
  const missing = connector.missingCredentials(spec, io.env);
  if (missing) {
    io.stderr(`iden: cannot read ${app.id}: ${missing}\n`);
    return EXIT.failed;
  }
  const at = atOption(options.at, repo, io.clock.now());
  const zone = zoneOf(repo);
  const reason =
    options.reason ?? `imported from ${app.id} on ${DateTime.fromMillis(at, { zone }).toISODate()}`;

  let held: Held[];
  let session: Session | undefined;
  try {
    session = await connector.open(spec, {
      repoRoot: root,
      env: io.env,
      lockTimeoutMs: parseDuration(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT) ?? 300_000,
      onNotice: (text) => io.stderr(`notice: ${app.id}: ${text}\n`),
      people: new Map(people.map((p) => [p.id, p])),
      importing: true,
      clock: io.clock,
    });
    held = await session.observe();
  } catch (e) {
    io.stderr(`iden: cannot read ${app.id}: ${(e as Error).message}; nothing was written\n`);
    return EXIT.failed;
  } finally {
    await session?.close().catch(() => undefined);
  }

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

  for (const [key, holding] of [...holdings].sort(([a], [b]) => a.localeCompare(b))) {
    let person = byAccount.get(key);
    if (!person && options.addPeople) {
      person = newPerson(holding.account, app.id, connector.type, connector.accountDefault === 'email', ids);
      ids.add(person.id);
      added.push(person);
      result.peopleAdded.push(person.id);
    }
    if (!person) {
      result.unmatched.push(holding.account);
      continue;
    }
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

  if (!options.dryRun) {
    for (const [file, text] of files) {
      mkdirSync(join(root, 'grants', app.id), { recursive: true });
      writeFileSync(join(root, file), text, { flag: 'wx' });
    }
    if (added.length > 0) addPeople(join(root, 'grants', '_people.yaml'), added);
    if (result.adopt.length > 0) addAdopted(join(root, app.file), result.adopt);
  }
  if (options.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(report(result, options.dryRun === true, files));
  return EXIT.ok;
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
): Person {
  const base = idFrom(account);
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  const email = EMAIL.test(account) ? account : `${id}@unknown.invalid`;
  const accounts: Record<string, string> =
    type === 'github'
      ? { github: account }
      : byEmail && email === account
        ? {}
        : id === account
          ? {}
          : { [app]: account };
  return { id, name: account, email, ...(Object.keys(accounts).length > 0 ? { accounts } : {}) } as Person;
}

/** Appends accounts to the app's `adopt:` list, keeping the file's comments and layout. */
function addAdopted(path: string, accounts: string[]): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const list = doc.get('adopt') as YAMLSeq | undefined;
  if (list) for (const account of accounts) list.items.push(doc.createNode(account));
  else doc.set('adopt', doc.createNode(accounts));
  writeFileSync(path, doc.toString());
}

/** Appends people to the directory, keeping its comments and layout. */
function addPeople(path: string, people: Person[]): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const list = doc.get('people') as YAMLSeq;
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

function report(result: ImportResult, dryRun: boolean, files: Map<string, string>): string {
  const lines: string[] = [];
  for (const file of result.written) lines.push(`${dryRun ? 'would write' : 'wrote'} ${file}`);
  if (dryRun)
    for (const text of files.values())
      lines.push(
        ...text
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
  for (const id of result.peopleAdded)
    lines.push(`${dryRun ? 'would add' : 'added'} ${id} to grants/_people.yaml (check the name and email)`);
  for (const account of result.unowned)
    lines.push(
      result.adopt.includes(account)
        ? `${dryRun ? 'would adopt' : 'adopt'}: ${account}, which iden did not create, is listed in ${result.app}'s adopt: once merged, iden takes it over`
        : `unowned: ${account} was not created by iden: iden manages its access in ${result.app}, never the account itself (iden import --adopt hands it over, through review)`,
    );
  for (const c of result.conflicts) lines.push(`conflict: ${c.file}: ${c.reason}`);
  for (const account of result.unmatched)
    lines.push(
      `unmatched: ${account} holds access in ${result.app} but is no one's account there; add the person to grants/_people.yaml, or pass --add-people`,
    );
  lines.push(
    `Import: ${result.written.length} grant files ${dryRun ? 'to write' : 'written'}, ${result.conflicts.length} conflicts, ${result.unmatched.length} unmatched, ${result.peopleAdded.length} people ${dryRun ? 'to add' : 'added'}.${dryRun || result.written.length === 0 ? '' : ' Review them, commit, and open a pull request.'}`,
  );
  return `${lines.join('\n')}\n`;
}
