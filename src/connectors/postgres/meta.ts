import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import { accountIsRole, nameLength, unsafeRole } from './rules.js';
import schema from './schema.json' with { type: 'json' };
import type { PostgresConnector } from './settings.generated.js';

/** Role membership in PostgreSQL: entitlements and tiers are group roles, people are login roles. */
const meta: ConnectorMeta = {
  type: 'postgres',
  accountDefault: 'id',
  caseInsensitiveAccounts: false,
  schema,
  rules: [nameLength, accountIsRole, unsafeRole],
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
  // The server's own name for its cluster, for apps a run does not open (loads the driver only then).
  identify: async (app, env) => (await import('./open.js')).identify(app, env),
  load: () => import('./index.js'),
};

export default meta;
