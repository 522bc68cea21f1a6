import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import { DEFAULT_BIND_DN_ENV, DEFAULT_BIND_PASSWORD_ENV } from './config.js';
import { accountForm, settingsRules } from './rules.js';
import schema from './schema.json' with { type: 'json' };
import type { LdapConnector } from './settings.generated.js';

/** Membership of directory groups on OpenLDAP, Active Directory and other LDAPv3 servers, through ldapts. */
const meta: ConnectorMeta = {
  type: 'ldap',
  // A person's uid or sAMAccountName is most often their id; mail and userPrincipalName are given per person.
  accountDefault: 'id',
  // uid, sAMAccountName, userPrincipalName and mail all match without regard to case.
  caseInsensitiveAccounts: true,
  schema,
  rules: [settingsRules, accountForm],
  missingCredentials(app, env) {
    const { connector } = typed<LdapConnector, unknown, unknown>(app);
    const missing = [
      connector.bindDnEnv ?? DEFAULT_BIND_DN_ENV,
      connector.bindPasswordEnv ?? DEFAULT_BIND_PASSWORD_ENV,
    ]
      .filter((name) => !env[name])
      .map((name) => `${name} is not set`);
    return missing.length > 0 ? missing.join(', ') : undefined;
  },
  // Accounts are the directory's: apps on one server share them (an account is offboarded when none grants it anything).
  target(app) {
    const { connector } = typed<LdapConnector, unknown, unknown>(app);
    try {
      const url = new URL(connector.url);
      const port = url.port || (url.protocol === 'ldaps:' ? '636' : '389');
      return `ldap://${url.hostname.toLowerCase()}:${port}`;
    } catch {
      return connector.url;
    }
  },
  load: () => import('./index.js'),
};

export default meta;
