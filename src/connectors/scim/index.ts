import { type Connector, ObserveError, typed } from '../types.js';
import type { ScimConnector } from './settings.generated.js';

/**
 * SCIM 2.0 (RFC 7643/7644). The settings schema and credentials check are in
 * place; the protocol client is the SCIM connector issue's work, so with
 * credentials present the app is reported unreachable rather than read as empty.
 */
export const scim: Connector = {
  type: 'scim',
  accountDefault: 'email',
  caseInsensitiveAccounts: true,
  missingCredentials(app, env) {
    const { tokenEnv } = typed<ScimConnector, unknown, unknown>(app).connector;
    return env[tokenEnv] ? undefined : `${tokenEnv} is not set`;
  },
  async open() {
    throw new ObserveError('the scim connector cannot reach a SCIM service yet in this version of iden');
  },
};
