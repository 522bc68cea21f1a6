import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { PostgresConnector } from './settings.generated.js';

/** Role membership in PostgreSQL: entitlements and tiers are group roles, people are login roles. */
const meta: ConnectorMeta = {
  type: 'postgres',
  accountDefault: 'id',
  caseInsensitiveAccounts: false,
  schema,
  missingCredentials(app, env) {
    const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
    if (settings.urlEnv && !env[settings.urlEnv]) return `${settings.urlEnv} is not set`;
    return undefined;
  },
  load: () => import('./index.js'),
};

export default meta;
