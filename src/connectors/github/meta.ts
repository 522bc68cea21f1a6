import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import schema from './schema.json' with { type: 'json' };
import type { GithubConnector } from './settings.generated.js';

/** Teams, organisation roles, repository permissions and Copilot seats, through octokit. */
const meta: ConnectorMeta = {
  type: 'github',
  accountDefault: 'github',
  caseInsensitiveAccounts: true,
  schema,
  missingCredentials(app, env) {
    const { connector } = typed<GithubConnector, unknown, unknown>(app);
    if (connector.app)
      return env[connector.app.privateKeyEnv] ? undefined : `${connector.app.privateKeyEnv} is not set`;
    const variable = connector.tokenEnv ?? 'GITHUB_TOKEN';
    return env[variable] ? undefined : `${variable} is not set`;
  },
  load: () => import('./index.js'),
};

export default meta;
