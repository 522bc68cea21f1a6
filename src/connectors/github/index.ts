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
  return new GithubSession(
    createClient(connector, context.env, pacer),
    connector.org,
    entitlements,
    licenses,
    pacer,
  );
}

export { translate } from './client.js';
