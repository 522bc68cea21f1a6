import { systemClock } from '../../model/clock.js';
import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { createClients, Pacer } from './client.js';
import { CenterSession } from './session.js';
import type {
  AwsIdentityCenterConnector,
  AwsIdentityCenterEntitlement,
  AwsIdentityCenterLicense,
} from './settings.generated.js';

/** Opens a session on the Identity Center instance, through AWS's SDK clients. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements } = typed<
    AwsIdentityCenterConnector,
    AwsIdentityCenterEntitlement,
    AwsIdentityCenterLicense
  >(app);
  const clock = context.clock ?? systemClock;
  const pacer = new Pacer(connector.requestsPerSecond ?? 10, clock);
  return new CenterSession(await createClients(connector, context.env, pacer), {
    app: app.id,
    settings: connector,
    entitlements,
    clock,
    assignmentTimeoutMs: connector.assignmentTimeoutMs ?? 300_000,
  });
}

export { translate } from './errors.js';
