import { accountDefaults, connectorSchemas } from '../../connectors/catalog.js';
import { accountFor } from '../../model/accounts.js';
import { didYouMean, error, type Finding } from '../../model/diagnostics.js';
import type { RuleContext } from '../context.js';

/** Every name a grant uses must exist: the person, the app, its entitlements and tier. */
export function grantReferences(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const checkPeople = ctx.repo.people?.raw !== undefined;
  // A typo in the connector type is reported once, there, not as a missing account on every grant.
  const types = new Set(Object.keys(connectorSchemas));
  for (const grant of ctx.grants) {
    const { file, user, permissions, license } = grant;
    if (checkPeople && !ctx.people.has(user)) {
      findings.push(
        error(
          file,
          'unknown-user',
          `"${user}" is not a person in grants/_people.yaml${didYouMean(user, ctx.people.keys())}`,
          ['user'],
        ),
      );
    }
    const app = ctx.apps.get(grant.app);
    if (!app) {
      // A folder whose _app.yaml is missing or unreadable is reported there; only a name with no folder is news here.
      if (grant.app !== grant.folder && !ctx.repo.apps.has(grant.app)) {
        findings.push(
          error(file, 'unknown-app', `no app "${grant.app}" (no grants/${grant.app}/_app.yaml)`, ['app']),
        );
      }
      continue;
    }
    const person = ctx.people.get(user);
    if (person && app.connectorType !== undefined && types.has(app.connectorType)) {
      const rule = accountDefaults[app.connectorType];
      if (!accountFor(person, app.id, rule)) {
        const hint =
          rule === 'github'
            ? `accounts: { github: <their GitHub login> } (or ${app.id}: for a login used only here)`
            : `accounts: { ${app.id}: <their ${app.connectorType} account> }`;
        findings.push(
          error(
            file,
            'missing-account',
            `${user} has no account for app "${app.id}": add ${hint} to their entry in grants/_people.yaml`,
            ['user'],
          ),
        );
      }
    }
    const entitlements = app.entitlements.map((e) => e.id);
    for (const { id, index } of permissions) {
      if (!entitlements.includes(id)) {
        findings.push(
          error(
            file,
            'unknown-permission',
            `"${id}" is not an entitlement of app "${app.id}"${didYouMean(id, entitlements) || declared(entitlements)}`,
            ['permissions', index],
          ),
        );
      }
    }
    const tiers = app.licenses.map((l) => l.id);
    if (grant.hasLicense && tiers.length === 0) {
      findings.push(
        error(
          file,
          'license-not-offered',
          `app "${app.id}" declares no license tiers; remove license`,
          ['license'],
          'key',
        ),
      );
    } else if (license !== undefined && !tiers.includes(license)) {
      findings.push(
        error(
          file,
          'unknown-license',
          `"${license}" is not a license tier of app "${app.id}"${didYouMean(license, tiers) || declared(tiers)}`,
          ['license'],
        ),
      );
    } else if (!grant.hasLicense && tiers.length > 0) {
      findings.push(
        error(
          file,
          'license-required',
          `app "${app.id}" gives each user a paid seat: add license: with one of ${tiers.join(', ')}`,
        ),
      );
    }
    if (permissions.length === 0 && !grant.hasLicense) {
      findings.push(
        error(file, 'grants-nothing', 'the grant gives nothing: list permissions or name a license'),
      );
    }
  }
  return findings;
}

function declared(ids: string[]): string {
  return ids.length === 0 ? ' (it declares none)' : ` (it declares ${ids.join(', ')})`;
}
