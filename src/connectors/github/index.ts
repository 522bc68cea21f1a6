import { type Connector, ObserveError, typed } from '../types.js';
import type { GithubConnector } from './settings.generated.js';

/**
 * GitHub: teams, org roles, repository permissions and Copilot seats. The
 * settings schema and credentials check are in place; the API client is
 * the GitHub connector issue's work, so with credentials present the app is
 * reported unreachable rather than read as empty.
 */
export const github: Connector = {
  type: 'github',
  accountDefault: undefined,
  caseInsensitiveAccounts: true,
  missingCredentials(app, env) {
    const settings = typed<GithubConnector, unknown, unknown>(app).connector;
    if (settings.app)
      return env[settings.app.privateKeyEnv] ? undefined : `${settings.app.privateKeyEnv} is not set`;
    const variable = settings.tokenEnv ?? 'GITHUB_TOKEN';
    return env[variable] ? undefined : `${variable} is not set`;
  },
  async open() {
    throw new ObserveError('the github connector cannot reach GitHub yet in this version of iden');
  },
};
