import { systemClock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import { type AppSpec, type ConnectorContext, ObserveError, type Session, typed } from '../types.js';
import { apiToken, ServiceApp, signingKey } from './auth.js';
import { OktaClient } from './client.js';
import type { CredentialHint } from './errors.js';
import { mappingsOf, scopesFor } from './mapping.js';
import { ratesFor } from './pace.js';
import { OktaSession } from './session.js';
import type { OktaConnector, OktaEntitlement, OktaLicense } from './settings.generated.js';

/** Opens a session on the Okta org: an API token or a service app, paced within iden's share of the org's limits. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<OktaConnector, OktaEntitlement, OktaLicense>(app);
  const mappings = mappingsOf(entitlements, licenses);
  const roles = mappings.filter((m) => m.kind === 'role');
  if (roles.length > 0 && connector.adminRoles !== true)
    throw new ObserveError(
      `${roles.map((m) => m.id).join(', ')} ${roles.length === 1 ? 'is an admin role' : 'are admin roles'}, which this app does not manage: set adminRoles: true in its connector block to let iden assign them`,
    );
  const clock = context.clock ?? systemClock;
  const timeoutMs = connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const rates = ratesFor(connector.orgUrl, connector.rateLimitShare ?? 0.5, clock, (text) =>
    context.onNotice?.(text),
  );
  const scopes = scopesFor(mappings);
  let hint: CredentialHint;
  let auth: ConstructorParameters<typeof OktaClient>[1];
  if (connector.oauth) {
    const { clientId, privateKeyEnv, keyId } = connector.oauth;
    const key = signingKey(context.env[privateKeyEnv] ?? '', privateKeyEnv);
    auth = new ServiceApp(
      connector.orgUrl,
      clientId,
      { ...key, kid: keyId ?? key.kid },
      scopes,
      clock,
      timeoutMs,
    );
    hint = {
      refused: `check service app ${clientId} and the key in ${privateKeyEnv}`,
      forbidden: `service app ${clientId} needs the scopes ${scopes.write.join(', ')} and an admin role that covers this group, app or role`,
    };
  } else {
    const variable = connector.tokenEnv ?? 'OKTA_API_TOKEN';
    auth = apiToken(context.env[variable] ?? '');
    hint = {
      refused: `check that ${variable} holds a current API token (Okta revokes tokens unused for 30 days, and with their admin)`,
      forbidden: `the admin who made the token in ${variable} needs a role that covers this group, app or role`,
    };
  }
  const client = new OktaClient(connector.orgUrl, auth, rates, timeoutMs);
  return new OktaSession(client, mappings, app.id, hint, context.importing === true);
}
