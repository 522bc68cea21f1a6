import { accountFor } from '../../model/accounts.js';
import { systemClock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { type Credentials, readCertificate, TokenSource } from './auth.js';
import { Directory } from './directory.js';
import { Graph } from './graph.js';
import type { Mapping } from './observe.js';
import { EntraSession } from './session.js';
import type { EntraConnector, EntraEntitlement, EntraLicense } from './settings.generated.js';

/** Opens a session on the tenant: client credentials against its token endpoint, then Microsoft Graph. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<EntraConnector, EntraEntitlement, EntraLicense>(app);
  const clock = context.clock ?? systemClock;
  const timeoutMs = connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const graphUrl = connector.graphUrl ?? 'https://graph.microsoft.com/v1.0';
  const variable = (connector.clientSecretEnv ?? connector.certificateEnv)!;
  const value = context.env[variable] ?? '';
  const credentials: Credentials = {
    tenantId: connector.tenantId,
    clientId: connector.clientId,
    tokenUrl:
      connector.tokenUrl ??
      `https://login.microsoftonline.com/${encodeURIComponent(connector.tenantId)}/oauth2/v2.0/token`,
    scope: `${new URL(graphUrl).origin}/.default`,
    variable,
    ...(connector.certificateEnv ? { certificate: readCertificate(value, variable) } : { secret: value }),
  };
  const mappings: Mapping[] = [
    ...entitlements.map((e) => ({
      id: e.id,
      license: false,
      ...(e.kind === 'group' ? { group: e.group! } : { app: e.enterpriseApp!, role: e.appRole! }),
    })),
    ...licenses.map((l) => ({ id: l.id, license: true, sku: l.sku })),
  ];
  // Held access is named by the account the repository uses: a person's UPN, or their mail where that is it.
  const accounts = new Set<string>();
  for (const person of context.people?.values() ?? []) {
    const account = accountFor(person, app.id, 'email');
    if (account) accounts.add(account.toLowerCase());
  }
  const graph = new Graph(graphUrl, new TokenSource(credentials, clock, timeoutMs), timeoutMs, clock);
  return new EntraSession(
    graph,
    new Directory(accounts, context.importing === true),
    mappings,
    app.id,
    context,
  );
}
