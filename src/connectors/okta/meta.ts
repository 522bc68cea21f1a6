import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { OktaConnector } from './settings.generated.js';

/** Okta group membership, app assignments and admin roles, through the Management API. */
const meta: ConnectorMeta = {
  type: 'okta',
  // An Okta login is usually the person's email; accounts.<app> names it where it differs.
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  usage: "the Okta user's lastLogin",
  schema,
  missingCredentials(app, env) {
    const { connector } = typed<OktaConnector, unknown, unknown>(app);
    if (connector.oauth)
      return env[connector.oauth.privateKeyEnv] ? undefined : `${connector.oauth.privateKeyEnv} is not set`;
    const variable = connector.tokenEnv ?? 'OKTA_API_TOKEN';
    return env[variable] ? undefined : `${variable} is not set`;
  },
  load: () => import('./index.js'),
};

export default meta;
