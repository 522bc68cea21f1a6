import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { selfSigned } from '../helpers/certificate.js';
import { runCli } from '../helpers/cli.js';
import { CLIENT_ID, EntraServer, TENANT } from '../helpers/entra-server.js';
import type { App, Group, Sku } from '../helpers/entra-tenant.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: a Retry-After of a second is waited a few milliseconds. */
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const SECRET = 's3cret-Value~1';

interface World {
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
async function world(): Promise<World> {
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

function connector(server: EntraServer, extra = ''): string {
  return `{ type: entra, tenantId: ${TENANT}, clientId: ${CLIENT_ID}, clientSecretEnv: ENTRA_SECRET, tokenUrl: '${server.tokenUrl}', graphUrl: '${server.graphUrl}'${extra} }`;
}

function accessRepo(w: World, files: Record<string, string | null> = {}, app = ''): string {
  const dir = writeTree({
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice Martin, email: alice@contoso.com }
  - { id: bob, name: Bob Okafor, email: bob@example.com, accounts: { m365: bob.okafor@contoso.com } }
  - { id: carol, name: Carol Nguyen, email: carol@contoso.com }
  - { id: dave, name: Dave Ghost, email: dave@contoso.com }
`,
    'grants/m365/_app.yaml': `name: Microsoft 365
connector: ${connector(w.server)}
entitlements:
  - { id: vpn, kind: group, group: VPN Users }
  - { id: finance, kind: group, group: ${w.finance.id} }
  - { id: sf-admin, kind: app-role, enterpriseApp: Salesforce, appRole: Admin }
  - { id: sf-user, kind: app-role, enterpriseApp: ${w.salesforce.appId}, appRole: user }
licenses:
  - { id: e3, seats: 10, sku: SPE_E3 }
  - { id: e5, seats: 5, sku: ${w.e5.skuId} }
${app}`,
    'grants/m365/alice.yaml': 'user: alice\napp: m365\npermissions: [vpn, sf-admin]\nlicense: e3\n',
    'grants/m365/bob.yaml': 'user: bob\napp: m365\npermissions: [vpn, finance, sf-user]\nlicense: e5\n',
    'grants/m365/carol.yaml':
      'user: carol\napp: m365\npermissions: [finance]\nlicense: e3\nend: 2027-01-01\n',
    ...files,
  });
  commitAll(dir, 'microsoft 365 access');
  return dir;
}

const env: NodeJS.ProcessEnv = { ENTRA_SECRET: SECRET };
const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

async function plan(dir: string, at = NOW, environment = env): Promise<Plan & { stderr: string }> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], {
    env: environment,
    retry: FAST,
  });
  return { ...(JSON.parse(result.stdout) as Plan), stderr: result.stderr };
}
const apply = (dir: string, at = NOW, environment = env, ...extra: string[]) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra], {
    env: environment,
    retry: FAST,
  });

describe('entra connector through the CLI, against a loopback Entra ID that validates against Graph’s description', () => {
  it('grants groups, app roles and licences in batches; a user Entra lacks fails alone; a second plan is empty', async () => {
    const w = await world();
    const { server } = w;
    try {
      const dir = accessRepo(w, {
        'grants/m365/dave.yaml': 'user: dave\napp: m365\npermissions: [vpn]\nlicense: e3\n',
      });
      const applied = await apply(dir);
      expect(applied.stdout).toContain('Applied: 9 granted, 0 revoked, 0 unchanged, 2 failed.');
      expect(applied.stdout).toMatch(
        /failed\s+dave\s+m365\s+vpn\s+no user dave@contoso\.com in Entra \(no user has it as userPrincipalName or mail\); iden never creates users/,
      );
      const t = server.tenant;
      expect(t.members(w.vpn)).toEqual(['alice@contoso.com', 'bob.okafor@contoso.com']);
      expect(t.members(w.finance)).toEqual(['bob.okafor@contoso.com', 'c.nguyen@contoso.com']);
      expect(t.holders(w.salesforce, 'Admin')).toEqual(['alice@contoso.com']);
      expect(t.holders(w.salesforce, 'User')).toEqual(['bob.okafor@contoso.com']);
      expect(t.licensed(w.e3)).toEqual(['alice@contoso.com', 'c.nguyen@contoso.com']);
      expect(t.licensed(w.e5)).toEqual(['bob.okafor@contoso.com']);
      // One token, four calls: observe in two batched rounds (the groups, the first members of the one
      // named by id, the apps, the products, the holders of the one named by skuId; then the other
      // members, the assignments read once for the app named twice, the other holders); the accounts
      // looked up by UPN and by mail in one batch; every write in one batch.
      expect(server.tokenCalls).toBe(1);
      expect(server.graphCalls).toBe(4);
      expect(server.operations.filter((o) => o.endsWith('appRoleAssignedTo'))).toEqual([
        'GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo',
        'POST /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo',
        'POST /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo',
      ]);
      expect(server.errors).toEqual([]);

      const again = await plan(dir);
      expect(brief(again)).toEqual(['grant dave vpn new-grant', 'grant dave e3 new-grant']);
      expect(again.drift).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

void rmSync;
void join;
void selfSigned;
