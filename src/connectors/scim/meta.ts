import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { ScimConnector } from './settings.generated.js';

/** SCIM 2.0 (RFC 7643/7644): users, group membership, roles and entitlements. */
const meta: ConnectorMeta = {
  type: 'scim',
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  schema,
  missingCredentials(app, env) {
    const { tokenEnv } = typed<ScimConnector, unknown, unknown>(app).connector;
    return env[tokenEnv] ? undefined : `${tokenEnv} is not set`;
  },
  load: () => import('./index.js'),
};

export default meta;
