import picomatch from 'picomatch';
import { connectorMetas } from '../../connectors/catalog.js';
import { AccountWays, derivedAccount } from '../../model/accounts.js';
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
  const ways = new AccountWays(people);
  for (const [i, first] of collisionsWith(ways.holders('github', true), new Map(), true, () => undefined))
    report('GitHub', people[i]!, people[i]!.accounts.github!, people[first]!, [
      'people',
      people[i]!.index,
      'accounts',
      'github',
    ]);
  for (const app of ctx.apps.values()) {
    const meta = app.connectorType === undefined ? undefined : connectorMetas[app.connectorType];
    if (!meta) continue;
    const rule = meta.accountDefault;
    const fold = meta.caseInsensitiveAccounts;
    const derived = (p: PersonView) => derivedAccount(p, rule);
    const own = new Map(ways.namingIn(app.id).map((i) => [i, people[i]!.accounts[app.id]!]));
    const derivedPath = (p: PersonView): YamlPath =>
      rule === 'email' ? ['people', p.index, 'email'] : ['people', p.index, 'id'];
    const keyOf = (i: number) => {
      const account = derived(people[i]!);
      return account === undefined ? undefined : fold ? account.toLowerCase() : account;
    };
    for (const [i, first] of collisionsWith(ways.holders(rule, fold), own, fold, keyOf)) {
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

const later = new WeakMap<Map<string, number[]>, [number, number, string][]>();

/** Every account's later holders with its first and the account, worked out once per index (not once per app). */
function laterHolders(holders: Map<string, number[]>): [number, number, string][] {
  let found = later.get(holders);
  if (!found) {
    found = [];
    for (const [key, list] of holders) for (const i of list.slice(1)) found.push([i, list[0]!, key]);
    later.set(holders, found);
  }
  return found;
}

/**
 * Each later holder of an account with its first, in the people's order: the derived
 * accounts' `holders` once some people's accounts are their own (`own`, by position,
 * `keyOf` their derived account as compared). Only the accounts those change are worked
 * out again; every other account's holders stand.
 */
function collisionsWith(
  holders: Map<string, number[]>,
  own: Map<number, string>,
  fold: boolean,
  keyOf: (i: number) => string | undefined,
): [number, number][] {
  const ownKeys = new Map([...own].map(([i, account]) => [i, fold ? account.toLowerCase() : account]));
  const touched = new Set<string>();
  for (const [i, key] of ownKeys) {
    touched.add(key);
    const was = keyOf(i);
    if (was !== undefined) touched.add(was);
  }
  const out: [number, number][] = [];
  for (const [i, first, key] of laterHolders(holders)) if (!touched.has(key)) out.push([i, first]);
  for (const key of touched) {
    const members = (holders.get(key) ?? []).filter((i) => !own.has(i));
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
