import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { GoogleWorkspaceConnector } from './settings.generated.js';

/** The variable holding the service account's key when the settings name none. */
export const DEFAULT_CREDENTIALS_ENV = 'GOOGLE_WORKSPACE_CREDENTIALS';

/** Google group membership with its role, and Workspace licences as tiers, as a service account with domain-wide delegation. */
const meta: ConnectorMeta = {
  type: 'google-workspace',
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  usage: "the user's lastLoginTime (needs the admin.directory.user.readonly scope delegated)",
  schema,
  missingCredentials(app, env) {
    const variable =
      typed<GoogleWorkspaceConnector, unknown, unknown>(app).connector.credentialsEnv ??
      DEFAULT_CREDENTIALS_ENV;
    return env[variable] ? undefined : `${variable} is not set`;
  },
  load: () => import('./index.js'),
};

export default meta;
