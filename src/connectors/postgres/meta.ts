import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import { accountIsRole, nameLength } from './rules.js';
import schema from './schema.json' with { type: 'json' };
import type { PostgresConnector } from './settings.generated.js';

/** Role membership in PostgreSQL: entitlements and tiers are group roles, people are login roles. */
const meta: ConnectorMeta = {
  type: 'postgres',
  accountDefault: 'id',
  caseInsensitiveAccounts: false,
  schema,
  rules: [nameLength, accountIsRole],
  missingCredentials(app, env) {
    const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
    if (settings.urlEnv && !env[settings.urlEnv]) return `${settings.urlEnv} is not set`;
    return undefined;
  },
  // Login roles are the cluster's: apps on one server (whatever database) share them.
  target(app, env) {
    const settings = typed<PostgresConnector, unknown, unknown>(app).connector;
    const url = settings.urlEnv ? env[settings.urlEnv] : settings.url;
    if (!url) return `embedded:${app.id}`;
    try {
      const parsed = new URL(url);
      return `postgres://${parsed.hostname}:${parsed.port || '5432'}`;
    } catch {
      return url;
    }
  },
  load: () => import('./index.js'),
};

export default meta;
