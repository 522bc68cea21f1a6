import picomatch from 'picomatch';
import { connectorMetas } from '../../connectors/catalog.js';
import { error, type Finding, type YamlPath } from '../../model/diagnostics.js';
import { NEVER_EXEMPT } from '../../policy/classify.js';
import type { PersonView, RuleContext } from '../context.js';

/**
 * One account is one person's: two people whose accounts in an app are the
 * same, compared as the app compares them (GitHub logins, SCIM userNames and
 * emails without regard to case) and including the accounts connectors
 * derive (the email, the id), would let one person be granted, or approve,
 * as the other. GitHub logins are compared even without a GitHub app: pull
 * requests know people by them.
 *
 * The people are read once per way of deriving accounts, not once per app
 * (100,000 people in 2,000 apps were 200 million steps): an app's findings
 * are those of its way, redone only for the accounts it names itself.
 */
export function oneAccountOnePerson(ctx: RuleContext): Finding[] {
  const file = ctx.repo.people?.file;
  if (!file) return [];
  const people = [...ctx.people.values()];
  const findings: Finding[] = [];
  const report = (where: string, person: PersonView, account: string, other: PersonView, path: YamlPath) =>
    findings.push(
      error(
        file,
        'duplicate-account',
        `${person.id}'s account ${account} in ${where} is also ${other.id}'s: one account is one person's; give each their own (accounts.${where === 'GitHub' ? 'github' : where})`,
        path,
      ),
    );
  const github = accountsBy(people, (p) => p.accounts.github, true);
  for (const [i, first] of github.collisions)
    report('GitHub', people[i]!, people[i]!.accounts.github!, people[first]!, [
      'people',
      people[i]!.index,
      'accounts',
      'github',
    ]);
  // Who names their own account in which app, in the people's order.
  const named = new Map<string, number[]>();
  for (const [i, p] of people.entries())
    for (const app of Object.keys(p.accounts)) {
      const list = named.get(app);
      if (list) list.push(i);
      else named.set(app, [i]);
    }
  const ways = new Map<string, Accounts>();
  for (const app of ctx.apps.values()) {
    const meta = app.connectorType === undefined ? undefined : connectorMetas[app.connectorType];
    if (!meta) continue;
    const rule = meta.accountDefault;
    const fold = meta.caseInsensitiveAccounts;
    const way = `${rule}\u0000${fold}`;
    // The account the connector derives, whatever the person names for this app.
    const derived = (p: PersonView) =>
      rule === 'id' ? p.id : rule === 'email' ? p.email : rule === 'github' ? p.accounts.github : undefined;
    const base = ways.get(way) ?? accountsBy(people, derived, fold);
    ways.set(way, base);
    const own = new Map((named.get(app.id) ?? []).map((i) => [i, people[i]!.accounts[app.id]!]));
    const derivedPath = (p: PersonView): YamlPath =>
      rule === 'email' ? ['people', p.index, 'email'] : ['people', p.index, 'id'];
    for (const [i, first] of collisionsWith(base, own, fold)) {
      const person = people[i]!;
      const given = own.get(i);
      report(
        app.id,
        person,
        given ?? derived(person)!,
        people[first]!,
        given !== undefined ? ['people', person.index, 'accounts', app.id] : derivedPath(person),
      );
    }
  }
  return findings;
}

/** Everyone's account one way: each key's people (positions, ascending), and each later holder of a key with its first. */
interface Accounts {
  keys: (string | undefined)[];
  holders: Map<string, number[]>;
  collisions: [number, number][];
}

function accountsBy(
  people: PersonView[],
  accountOf: (p: PersonView) => string | undefined,
  fold: boolean,
): Accounts {
  const keys = people.map((p) => {
    const account = accountOf(p);
    return account === undefined ? undefined : fold ? account.toLowerCase() : account;
  });
  const holders = new Map<string, number[]>();
  const collisions: [number, number][] = [];
  for (const [i, key] of keys.entries()) {
    if (key === undefined) continue;
    const list = holders.get(key);
    if (list) {
      list.push(i);
      collisions.push([i, list[0]!]);
    } else holders.set(key, [i]);
  }
  return { keys, holders, collisions };
}

/**
 * The collisions of `base` once some people's accounts are their own (`own`, by position):
 * the keys those change are worked out again, every other key's collisions stand.
 */
function collisionsWith(base: Accounts, own: Map<number, string>, fold: boolean): [number, number][] {
  if (own.size === 0) return base.collisions;
  const ownKeys = new Map([...own].map(([i, account]) => [i, fold ? account.toLowerCase() : account]));
  const touched = new Set<string>();
  for (const [i, key] of ownKeys) {
    touched.add(key);
    const was = base.keys[i];
    if (was !== undefined) touched.add(was);
  }
  const out = base.collisions.filter(([i]) => !touched.has(base.keys[i]!));
  for (const key of touched) {
    const members = (base.holders.get(key) ?? []).filter((i) => !own.has(i));
    for (const [i, k] of ownKeys) if (k === key) members.push(i);
    members.sort((x, y) => x - y);
    for (const i of members.slice(1)) out.push([i, members[0]!]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/** Paths a glob is tried on to tell whether it would exempt something that is never exempt. */
const RUNS = [
  'package.json',
  'sub/package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  '.npmrc',
  '.nvmrc',
  'Dockerfile',
  '.github/workflows/iden-apply.yml',
  '.iden/lock',
  'grants/_settings.yaml',
  'grants/app/person.yaml',
  'schemas/grant.schema.json',
  '.gitattributes',
  'docs/.gitattributes',
  '.gitmodules',
];

/** `policy.exempt` may name documentation, never what iden, git or CI read or run. */
export function exemptions(ctx: RuleContext): Finding[] {
  const settings = ctx.repo.settings;
  const exempt = (settings?.raw?.policy as { exempt?: unknown } | undefined)?.exempt;
  if (!settings || !Array.isArray(exempt)) return [];
  const findings: Finding[] = [];
  for (const [i, glob] of exempt.entries()) {
    if (typeof glob !== 'string') continue;
    let matches: (path: string) => boolean;
    try {
      matches = picomatch(glob, { dot: true });
    } catch {
      continue;
    }
    const hit = RUNS.find((path) => NEVER_EXEMPT.test(path) && matches(path));
    if (hit)
      findings.push(
        error(
          settings.file,
          'exempt-protected',
          `policy.exempt "${glob}" would exempt ${hit}, which is never exempt (grants/, schemas/, .github/, .iden/, package manifests and lockfiles, .npmrc, .nvmrc, Dockerfile, git attributes): name only paths such as docs/** or README.md`,
          ['policy', 'exempt', i],
        ),
      );
  }
  return findings;
}
