import type { ConnectorRule, RuleFinding } from '../types.js';
import { isLoopback } from './config.js';

const connectorOf = (raw: Record<string, unknown>) => (raw.connector ?? {}) as Record<string, unknown>;

function plainAcross(connector: Record<string, unknown>): boolean {
  const url = String(connector.url);
  if (!url.startsWith('ldap://') || connector.startTls === true || connector.allowPlainLdap === true)
    return false;
  try {
    return !isLoopback(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * What only Active Directory offers, and what it does not (tiers, disabling
 * offboarded accounts), and plain LDAP across the network, refused where it
 * is written rather than when the run connects.
 */
export const settingsRules: ConnectorRule = (app) => {
  const connector = connectorOf(app.raw);
  const ad = connector.flavor === 'active-directory';
  const findings: RuleFinding[] = [];
  if (ad && Array.isArray(app.raw.licenses) && app.raw.licenses.length > 0)
    findings.push({
      file: app.file,
      code: 'invalid-field',
      message: `an Active Directory app offers no license tiers (a seat there is a group like any other): remove "licenses" from ${app.id}, or make the group an entitlement`,
      path: ['licenses'],
    });
  if (typeof connector.url === 'string' && plainAcross(connector))
    findings.push({
      file: app.file,
      code: 'invalid-field',
      message: `${connector.url} is plain LDAP to another machine: the bind password would cross the network in clear. Use ldaps://, set startTls: true, or (on a network you trust) allowPlainLdap: true`,
      path: ['connector', 'url'],
    });
  if (!ad && connector.disableOnOffboard !== undefined)
    findings.push({
      file: app.file,
      code: 'invalid-field',
      message: `"connector.disableOnOffboard" is for Active Directory only (userAccountControl); ${app.id} is flavor ${String(connector.flavor)}: remove it`,
      path: ['connector', 'disableOnOffboard'],
    });
  return findings;
};

/** Accounts found by mail or userPrincipalName must look like one: the default (a person's id) never does. */
export const accountForm: ConnectorRule = (app) => {
  const attribute = connectorOf(app.raw).accountAttribute;
  if (attribute !== 'mail' && attribute !== 'userPrincipalName') return [];
  return app.grants
    .filter((g) => g.account !== undefined && !g.account.includes('@'))
    .map((g) => ({
      file: g.file,
      code: 'missing-account' as const,
      message: `${app.id} finds people by ${attribute}, but ${g.user}'s account there is "${g.account}": give it with accounts: { ${app.id}: ${g.user}@… } in grants/_people.yaml`,
      path: ['user'],
    }));
};
