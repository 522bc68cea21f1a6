import { systemClock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { contentLimits, createClient, Pacer } from './client.js';
import { GithubSession } from './session.js';
import type { GithubConnector, GithubEntitlement, GithubLicense } from './settings.generated.js';

/** Opens a session on the organisation, through octokit. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<GithubConnector, GithubEntitlement, GithubLicense>(app);
  const pacer = new Pacer(
    connector.writeIntervalMs ?? 1000,
    (text) => context.onNotice?.(text),
    undefined,
    contentLimits(connector.contentPerMinute, connector.contentPerHour),
  );
  const client = createClient(
    connector,
    context.env,
    pacer,
    connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  );
  return new GithubSession(
    client,
    connector.org,
    entitlements,
    licenses,
    pacer,
    context.clock ?? systemClock,
  );
}

export { translate } from './errors.js';
