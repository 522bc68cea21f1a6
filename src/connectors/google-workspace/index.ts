import { systemClock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { GOOGLE_TOKEN_URI, parseKey, TokenSource } from './auth.js';
import { effective } from './held.js';
import { DEFAULT_CREDENTIALS_ENV } from './meta.js';
import { Pacer } from './pacer.js';
import { GoogleWorkspaceSession } from './session.js';
import type {
  GoogleWorkspaceConnector,
  GoogleWorkspaceEntitlement,
  GoogleWorkspaceLicense,
} from './settings.generated.js';
import { type Api, GoogleClient } from './transport.js';

/** The scopes each API needs, and no more: members only (not groups themselves), licences only when tiers are declared. */
export const SCOPES = {
  members: 'https://www.googleapis.com/auth/admin.directory.group.member',
  licences: 'https://www.googleapis.com/auth/apps.licensing',
  /** Only for access reviews' last sign-ins and iden import's profiles, with a token of its own. */
  users: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
} as const;

/** The Directory API's published default quota: 2,400 queries a minute per user. */
export const DEFAULT_PER_MINUTE = 2400;
/** Google takes at most 1,000 requests in one batch request. */
export const MAX_BATCH = 1000;

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** Opens a session on the Workspace: the key from the environment, tokens on demand, nothing read yet. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const settings = typed<GoogleWorkspaceConnector, GoogleWorkspaceEntitlement, GoogleWorkspaceLicense>(app);
  const { connector } = settings;
  const { entitlements, licenses } = effective(settings.entitlements, settings.licenses);
  const variable = connector.credentialsEnv ?? DEFAULT_CREDENTIALS_ENV;
  const key = parseKey(context.env[variable] ?? '', variable);
  const clock = context.clock ?? systemClock;
  const timeoutMs = connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const perMinute = connector.requestsPerMinute ?? DEFAULT_PER_MINUTE;
  const scopes = [
    ...(entitlements.length > 0 ? [SCOPES.members] : []),
    ...(licenses.length > 0 ? [SCOPES.licences] : []),
  ];
  const tokensFor = (wanted: string[]) =>
    new TokenSource(key, {
      subject: connector.adminEmail,
      scopes: wanted,
      tokenUri: connector.tokenUri ?? key.tokenUri ?? GOOGLE_TOKEN_URI,
      timeoutMs,
      clock,
      variable,
    });
  // A batch larger than a minute's quota could never be sent within it.
  const batchSize = Math.min(connector.batchSize ?? MAX_BATCH, MAX_BATCH, perMinute);
  const client = new GoogleClient(tokensFor(scopes), batchSize, timeoutMs, () => clock.now());
  // Asks for its token only when used (review start, import): plan and apply never need the scope.
  const users = new GoogleClient(tokensFor([SCOPES.users]), batchSize, timeoutMs, () => clock.now());
  const notice = (text: string) => context.onNotice?.(text);
  const api = (root: string, label: string): Api => ({
    root: withSlash(root),
    label,
    pacer: new Pacer(perMinute, clock, `the ${label}`, notice),
  });
  const adminDomain = connector.adminEmail.slice(connector.adminEmail.lastIndexOf('@') + 1);
  return new GoogleWorkspaceSession(
    {
      app: app.id,
      client,
      directory: api(connector.directoryUrl ?? 'https://admin.googleapis.com/', 'Directory API'),
      licensing: api(connector.licensingUrl ?? 'https://licensing.googleapis.com/', 'License Manager API'),
      state: { groups: new Map(), tiers: new Map() },
      adminEmail: connector.adminEmail,
      domains: (connector.domains ?? [adminDomain]).map((d) => d.toLowerCase()),
      entitlements,
      licenses,
      grantedTo: context.grantedTo ?? (() => new Set()),
      moved: new Set(),
      notice,
      users,
    },
    connector.customer,
    context.importing === true,
  );
}
