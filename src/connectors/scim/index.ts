import { systemClock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
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
  // Mappings _app.yaml no longer declares come marked `id@retired`: observed so their holders are revoked.
  const retired = (id: string) => /@retired(-\d+)?$/.test(id);
  const mappings: Mapping[] = [
    ...entitlements.map((e) => ({ id: e.id, license: false, retired: retired(e.id), ...pick(e) })),
    ...licenses.map((l) => ({ id: l.id, license: true, retired: retired(l.id), ...pick(l) })),
  ];
  const clock = context.clock ?? systemClock;
  const client = new ScimClient(
    connector.baseUrl,
    context.env[connector.tokenEnv] ?? '',
    connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    () => clock.now(),
  );
  return new ScimSession(client, mappings, context, {
    app: app.id,
    form: connector.removeForm ?? 'filter',
  });
}
