import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { ScimSession } from './session.js';
import type { ScimConnector, ScimEntitlement, ScimLicense } from './settings.generated.js';
import { ScimClient } from './transport.js';
import type { Mapping } from './users.js';

function pick(m: {
  group?: string | undefined;
  role?: string | undefined;
  entitlement?: string | undefined;
}) {
  return {
    ...(m.group !== undefined ? { group: m.group } : {}),
    ...(m.role !== undefined ? { role: m.role } : {}),
    ...(m.entitlement !== undefined ? { entitlement: m.entitlement } : {}),
  };
}

/** Opens a session on the SCIM service. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<ScimConnector, ScimEntitlement, ScimLicense>(app);
  const mappings: Mapping[] = [
    ...entitlements.map((e) => ({ id: e.id, license: false, ...pick(e) })),
    ...licenses.map((l) => ({ id: l.id, license: true, ...pick(l) })),
  ];
  const client = new ScimClient(connector.baseUrl, context.env[connector.tokenEnv] ?? '');
  return new ScimSession(client, mappings, context, connector.removeForm ?? 'filter');
}
