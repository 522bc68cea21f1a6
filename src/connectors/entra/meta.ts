import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { EntraConnector } from './settings.generated.js';

/** Microsoft Entra ID through Microsoft Graph: group membership, app roles of enterprise apps, licences. */
const meta: ConnectorMeta = {
  type: 'entra',
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  usage: "the user's signInActivity.lastSuccessfulSignInDateTime (needs AuditLog.Read.All)",
  schema,
  missingCredentials(app, env) {
    const { connector } = typed<EntraConnector, unknown, unknown>(app);
    const variable = connector.clientSecretEnv ?? connector.certificateEnv;
    if (variable === undefined) return 'clientSecretEnv or certificateEnv is not given';
    return env[variable] ? undefined : `${variable} is not set`;
  },
  load: () => import('./index.js'),
};

export default meta;
