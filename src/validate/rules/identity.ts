import picomatch from 'picomatch';
import { connectorMetas } from '../../connectors/catalog.js';
import { accountFor } from '../../model/accounts.js';
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
 */
export function oneAccountOnePerson(ctx: RuleContext): Finding[] {
  const file = ctx.repo.people?.file;
  if (!file) return [];
  const findings: Finding[] = [];
  const check = (
    where: string,
    fold: boolean,
    accountOf: (p: PersonView) => string | undefined,
    pathOf: (p: PersonView) => YamlPath,
  ) => {
    const seen = new Map<string, string>();
    for (const person of ctx.people.values()) {
      const account = accountOf(person);
      if (account === undefined) continue;
      const key = fold ? account.toLowerCase() : account;
      const other = seen.get(key);
      if (other === undefined) seen.set(key, person.id);
      else
        findings.push(
          error(
            file,
            'duplicate-account',
            `${person.id}'s account ${account} in ${where} is also ${other}'s: one account is one person's; give each their own (accounts.${where === 'GitHub' ? 'github' : where})`,
            pathOf(person),
          ),
        );
    }
  };
  check(
    'GitHub',
    true,
    (p) => p.accounts.github,
    (p) => ['people', p.index, 'accounts', 'github'],
  );
  for (const app of ctx.apps.values()) {
    const meta = app.connectorType === undefined ? undefined : connectorMetas[app.connectorType];
    if (!meta) continue;
    check(
      app.id,
      meta.caseInsensitiveAccounts,
      (p) => accountFor(p, app.id, meta.accountDefault),
      (p) =>
        p.accounts[app.id] !== undefined
          ? ['people', p.index, 'accounts', app.id]
          : meta.accountDefault === 'email'
            ? ['people', p.index, 'email']
            : ['people', p.index, 'id'],
    );
  }
  return findings;
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
