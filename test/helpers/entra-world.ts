import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from './cli.js';
import { CLIENT_ID, EntraServer, TENANT } from './entra-server.js';
import type { App, Group, Sku } from './entra-tenant.js';
import { commitAll } from './git.js';
import { NO_VERIFY, writeTree } from './repo.js';

export const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: a Retry-After of a second is waited a few milliseconds. */
export const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
export const SECRET = 's3cret-Value~1';

export interface World {
  server: EntraServer;
  vpn: Group;
  finance: Group;
  salesforce: App;
  e3: Sku;
  e5: Sku;
}

/**
 * A tenant: alice (UPN = email), bob (UPN differs: accounts.m365 names it),
 * carol (UPN differs, found by her mail), mallory (no person); groups VPN
 * Users and Finance, the Salesforce enterprise app with roles Admin and
 * User, and the products SPE_E3 (10 seats) and SPE_E5 (5 seats).
 */
export async function world(): Promise<World> {
  const server = await new EntraServer().start();
  const t = server.tenant;
  t.addUser('alice@contoso.com');
  t.addUser('bob.okafor@contoso.com', { mail: 'bob@contoso.com' });
  t.addUser('c.nguyen@contoso.com', { mail: 'carol@contoso.com' });
  t.addUser('mallory@contoso.com');
  return {
    server,
    vpn: t.addGroup('VPN Users'),
    finance: t.addGroup('Finance'),
    salesforce: t.addApp('Salesforce', ['Admin', 'User']),
    e3: t.addSku('SPE_E3', 10),
    e5: t.addSku('SPE_E5', 5),
  };
}

export function connector(server: EntraServer, extra = ''): string {
  return `{ type: entra, tenantId: ${TENANT}, clientId: ${CLIENT_ID}, clientSecretEnv: ENTRA_SECRET, tokenUrl: '${server.tokenUrl}', graphUrl: '${server.graphUrl}'${extra} }`;
}

export function appYaml(w: World, extra = ''): string {
  return `name: Microsoft 365
connector: ${connector(w.server)}
entitlements:
  - { id: vpn, kind: group, group: VPN Users }
  - { id: finance, kind: group, group: ${w.finance.id} }
  - { id: sf-admin, kind: app-role, enterpriseApp: Salesforce, appRole: Admin }
  - { id: sf-user, kind: app-role, enterpriseApp: ${w.salesforce.appId}, appRole: user }
licenses:
  - { id: e3, seats: 10, sku: SPE_E3 }
  - { id: e5, seats: 5, sku: ${w.e5.skuId} }
${extra}`;
}

export function accessRepo(w: World, files: Record<string, string | null> = {}, app = ''): string {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice Martin, email: alice@contoso.com }
  - { id: bob, name: Bob Okafor, email: bob@example.com, accounts: { m365: bob.okafor@contoso.com } }
  - { id: carol, name: Carol Nguyen, email: carol@contoso.com }
  - { id: dave, name: Dave Ghost, email: dave@contoso.com }
`,
    'grants/m365/_app.yaml': appYaml(w, app),
    'grants/m365/alice.yaml': 'user: alice\napp: m365\npermissions: [vpn, sf-admin]\nlicense: e3\n',
    'grants/m365/bob.yaml': 'user: bob\napp: m365\npermissions: [vpn, finance, sf-user]\nlicense: e5\n',
    'grants/m365/carol.yaml':
      'user: carol\napp: m365\npermissions: [finance]\nlicense: e3\nend: 2027-01-01\n',
    ...files,
  });
  commitAll(dir, 'microsoft 365 access');
  return dir;
}

export const env: NodeJS.ProcessEnv = { ENTRA_SECRET: SECRET };
export const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

export async function plan(dir: string, at = NOW, environment = env): Promise<Plan & { stderr: string }> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], {
    env: environment,
    retry: FAST,
  });
  return { ...(JSON.parse(result.stdout) as Plan), stderr: result.stderr };
}
export const apply = (dir: string, at = NOW, environment = env, ...extra: string[]) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra], {
    env: environment,
    retry: FAST,
  });
