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

function appYaml(w: World, extra = ''): string {
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

function accessRepo(w: World, files: Record<string, string | null> = {}, app = ''): string {
  const dir = writeTree({
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

  it('changes a grant (tier and roles), ends it when its end date passes, and revokes a removed grant', async () => {
    const w = await world();
    const { server } = w;
    const t = server.tenant;
    try {
      const dir = accessRepo(w);
      expect((await apply(dir)).code).toBe(0);

      // alice moves from E3 to E5, from Salesforce Admin to Finance.
      writeTree(
        { 'grants/m365/alice.yaml': 'user: alice\napp: m365\npermissions: [vpn, finance]\nlicense: e5\n' },
        dir,
      );
      commitAll(dir, 'alice changes');
      const changed = await plan(dir);
      expect(brief(changed)).toEqual([
        'grant alice finance changed',
        'revoke alice sf-admin changed',
        'revoke alice e3 changed',
        'grant alice e5 changed',
      ]);
      const run = await apply(dir);
      expect(run.stdout).toContain('Applied: 2 granted, 2 revoked, 0 unchanged, 0 failed.');
      expect(t.holders(w.salesforce, 'Admin')).toEqual([]);
      expect(t.members(w.finance)).toContain('alice@contoso.com');
      expect(t.licensed(w.e3)).toEqual(['c.nguyen@contoso.com']);
      expect(t.licensed(w.e5)).toEqual(['alice@contoso.com', 'bob.okafor@contoso.com']);

      // carol's grant ends on 2027-01-01: the first run after it removes what it gave.
      const later = '2027-01-02T00:00:00Z';
      expect(brief(await plan(dir, later))).toEqual([
        'revoke carol finance expired',
        'revoke carol e3 expired',
      ]);
      expect((await apply(dir, later)).stdout).toContain('Applied: 0 granted, 2 revoked');
      expect(t.members(w.finance)).toEqual(['alice@contoso.com', 'bob.okafor@contoso.com']);
      expect(t.licensed(w.e3)).toEqual([]);

      // bob's grant file is deleted: everything it gave goes.
      rmSync(join(dir, 'grants/m365/bob.yaml'));
      commitAll(dir, 'bob leaves');
      expect(brief(await plan(dir, later))).toEqual([
        'revoke bob finance removed',
        'revoke bob sf-user removed',
        'revoke bob vpn removed',
        'revoke bob e5 removed',
      ]);
      expect((await apply(dir, later, env, '--allow-mass-removal')).stdout).toContain(
        'Applied: 0 granted, 4 revoked',
      );
      expect(t.members(w.vpn)).toEqual(['alice@contoso.com']);
      expect(t.holders(w.salesforce, 'User')).toEqual([]);
      expect(t.licensed(w.e5)).toEqual(['alice@contoso.com']);
      // Users are never deleted.
      expect(t.users.size).toBe(4);
      expect(brief(await plan(dir, later))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reports access given by hand as drift and prunes it; access through a group is not drift; dynamic groups are refused', async () => {
    const w = await world();
    const { server } = w;
    const t = server.tenant;
    try {
      const dir = accessRepo(w);
      expect((await apply(dir)).code).toBe(0);
      // By hand: mallory joins VPN Users and gets Salesforce Admin; erin (no person) gets an E3 licence.
      const mallory = t.user('mallory@contoso.com');
      const erin = t.addUser('erin@contoso.com');
      w.vpn.members.add(mallory.id);
      t.assign(w.salesforce, mallory, 'Admin');
      erin.licenses.add(w.e3.skuId);
      // Group-based licensing gives carol E5 and alice (already E3) E5 too: held through the group, not drift.
      const staff = t.addGroup('All Staff', { licenses: new Set([w.e5.skuId]) });
      staff.members.add(t.user('c.nguyen@contoso.com').id);
      staff.members.add(t.user('alice@contoso.com').id);
      // An app role assigned to a whole group: its members hold it through the group.
      const sales = t.addGroup('Sales');
      t.createAssignment(w.salesforce, sales.id, 'Group', 'Sales', w.salesforce.appRoles[0]!.id);

      const first = await plan(dir);
      expect(brief(first)).toEqual([]);
      expect(first.drift.map((d) => `${d.user} ${d.entitlement ?? d.license}`)).toEqual([
        'erin@contoso.com e3',
        'mallory@contoso.com sf-admin',
        'mallory@contoso.com vpn',
      ]);
      expect(first.stderr).toContain(
        'notice: m365: managed app roles of "Salesforce" are also assigned to 1 group (Sales): their members hold them through the group, which iden neither counts nor changes',
      );
      const observed = await runCli(
        ['access', '--repo', dir, '--at', NOW, '--app', 'm365', '--observed', '--format', 'json'],
        { env, retry: FAST },
      );
      const view = JSON.parse(observed.stdout) as {
        access: { user: string; observed?: string }[];
        drift: unknown[];
      };
      expect(view.access.map((r) => `${r.user} ${r.observed}`)).toEqual([
        'alice in-sync',
        'bob in-sync',
        'carol in-sync',
      ]);
      expect(view.drift).toHaveLength(3);

      writeTree({ 'grants/m365/_app.yaml': appYaml(w, 'prune: true\n') }, dir);
      commitAll(dir, 'prune drift');
      const pruned = await apply(dir);
      expect(pruned.stdout).toContain('Applied: 0 granted, 3 revoked, 0 unchanged, 0 failed.');
      expect(t.members(w.vpn)).toEqual(['alice@contoso.com', 'bob.okafor@contoso.com']);
      expect(t.holders(w.salesforce, 'Admin')).toEqual(['alice@contoso.com']);
      expect(t.licensed(w.e3)).toEqual(['alice@contoso.com', 'c.nguyen@contoso.com']);
      // Access fed through groups stays as it was.
      expect(t.licenceStates(t.user('c.nguyen@contoso.com')).map((s) => s.assignedByGroup)).toEqual([
        null,
        staff.id,
      ]);
      expect(w.salesforce.assignments.size).toBe(3);
      expect(brief(await plan(dir))).toEqual([]);

      // A dynamic group's members come from its rule: the app is skipped, saying which group and rule.
      t.addGroup('Sales Team', {
        groupTypes: ['DynamicMembership'],
        membershipRule: 'user.department -eq "Sales"',
      });
      t.addGroup('Old Share', { onPremisesSyncEnabled: true });
      t.addGroup('Announcements', { mailEnabled: true });
      for (const [group, says] of [
        [
          'Sales Team',
          'is a dynamic group: its members come from its rule (membershipRule: user.department -eq "Sales"), so iden cannot grant it',
        ],
        ['Old Share', 'is synced from on-premises Active Directory: its members can only be changed there'],
        [
          'Announcements',
          'is a distribution list or a mail-enabled security group: Graph cannot change its members',
        ],
      ] as const) {
        writeTree(
          {
            'grants/m365/_app.yaml': appYaml(w, `prune: true\n`).replace(
              'group: VPN Users',
              `group: ${group}`,
            ),
          },
          dir,
        );
        commitAll(dir, `map vpn to ${group}`);
        const refused = await plan(dir);
        expect(refused.changes).toEqual([]);
        expect(refused.skipped[0]!.reason).toContain(`group "${group}" (`);
        expect(refused.skipped[0]!.reason).toContain(says);
      }
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reads a group of 2,000 members page by page; import then plan is empty; a page that cannot be read skips the app', async () => {
    const server = await new EntraServer().start();
    const t = server.tenant;
    try {
      const everyone = t.addGroup('Everyone');
      const app = t.addApp('Contoso Portal', ['Reader']);
      const e3 = t.addSku('SPE_E3', 2500);
      const ids = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
      for (const [i, id] of ids.entries()) {
        const user = t.addUser(`${id}@contoso.com`);
        everyone.members.add(user.id);
        user.licenses.add(e3.skuId);
        if (i % 7 === 0) t.assign(app, user, 'Reader');
      }
      const dir = writeTree({
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@contoso.com }\n`).join('')}`,
        'grants/all/_app.yaml': `name: Everyone\nconnector: ${connector(server)}\nentitlements:\n  - { id: everyone, kind: group, group: Everyone }\n  - { id: portal, kind: app-role, enterpriseApp: Contoso Portal, appRole: Reader }\nlicenses:\n  - { id: e3, seats: 2500, sku: SPE_E3 }\n`,
      });
      commitAll(dir, 'the directory');
      const imported = await runCli(
        ['import', '--repo', dir, '--app', 'all', '--at', NOW, '--format', 'json'],
        {
          env,
          retry: FAST,
        },
      );
      const result = JSON.parse(imported.stdout) as {
        written: string[];
        conflicts: unknown[];
        unmatched: unknown[];
      };
      expect(result.written).toHaveLength(2000);
      expect(result.conflicts).toEqual([]);
      expect(result.unmatched).toEqual([]);
      commitAll(dir, 'import the access Entra holds');

      server.graphCalls = 0;
      const after = await plan(dir);
      expect(after.changes).toEqual([]);
      expect(after.drift).toEqual([]);
      expect(after.skipped).toEqual([]);
      // Rounds of batched reads: the group, the app and the products; then three pages of members
      // (999 a page) beside the assignments and the licence holders, page for page.
      expect(server.graphCalls).toBe(4);

      // A page that keeps failing skips the app: it is never read as empty (every grant would look new).
      server.fail({ status: 503, on: 'read', after: 4, times: 1000, retryAfter: 1 });
      const broken = await plan(dir);
      expect(broken.changes).toEqual([]);
      expect(broken.skipped).toEqual([
        {
          app: 'all',
          error: true,
          reason: expect.stringMatching(
            /^cannot observe: reading .*: Graph answered 503 serviceNotAvailable: The service is temporarily unavailable\. Please try again later\. \(after 5 attempts\)$/,
          ),
        },
      ]);
      // Once, it is retried and the plan is whole.
      server.heal();
      server.fail({ status: 429, on: 'read', after: 5, times: 1, retryAfter: 1 });
      expect((await plan(dir)).changes).toEqual([]);

      // Every grant file deleted at once: the removal limits stop the run.
      for (const id of ids) rmSync(join(dir, 'grants/all', `${id}.yaml`));
      commitAll(dir, 'everyone leaves');
      const mass = await plan(dir);
      expect(mass.blocked[0]).toMatch(
        /^the plan removes 4286 assignments, more than limits\.maxRemovals \(50\)/,
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('completes a run throttled mid-way (429 and 503 with Retry-After, a whole batch refused, a call never answered), each change once', async () => {
    const server = await new EntraServer().start();
    const t = server.tenant;
    try {
      const vpn = t.addGroup('VPN Users');
      const e3 = t.addSku('SPE_E3', 100);
      const ids = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`);
      for (const id of ids) t.addUser(`${id}@contoso.com`);
      const dir = writeTree({
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@contoso.com }\n`).join('')}`,
        'grants/m/_app.yaml': `name: M\nconnector: ${connector(server, ', timeoutMs: 1000')}\nentitlements:\n  - { id: vpn, kind: group, group: VPN Users }\nlicenses:\n  - { id: e3, seats: 100, sku: SPE_E3 }\n`,
        ...Object.fromEntries(
          ids.map((id) => [`grants/m/${id}.yaml`, `user: ${id}\napp: m\npermissions: [vpn]\nlicense: e3\n`]),
        ),
      });
      commitAll(dir, 'sixty people');
      // The first call to Graph is never answered; a read is unavailable once; seven writes are
      // throttled from the 25th on, across two batches; the fourth batch is refused whole.
      server.hang(1);
      server.fail({ status: 503, on: 'read', after: 1, times: 1, retryAfter: 2 });
      server.fail({ status: 429, on: 'write', after: 25, times: 7, retryAfter: 3 });
      server.fail({ status: 429, on: 'batch', after: 4, times: 1, retryAfter: 1 });
      const run = await apply(dir);
      expect(run.stdout).toContain('Applied: 120 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(server.unusedFaults).toBe(0);
      expect(vpn.members.size).toBe(60);
      expect(t.licensed(e3)).toHaveLength(60);
      // Only what was not served is sent again: 120 writes served once each.
      const writes = server.operations.filter((o) => o.startsWith('POST') || o.startsWith('DELETE'));
      expect(writes).toHaveLength(120 + 7);
      expect(brief(await plan(dir))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('fails a licence grant whose product has no free seat, and one Graph refuses, each on its own; the rest go ahead', async () => {
    const w = await world();
    const { server } = w;
    const t = server.tenant;
    try {
      // Two E3 licences bought, one already assigned to someone else: one left for alice and carol.
      w.e3.enabled = 2;
      t.addUser('erin@contoso.com').licenses.add(w.e3.skuId);
      // bob has no usage location: Graph refuses to license him.
      t.user('bob.okafor@contoso.com').usageLocation = null;
      const run = await apply(accessRepo(w));
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 7 granted, 0 revoked, 0 unchanged, 2 failed.');
      expect(run.stdout).toMatch(
        /failed\s+carol\s+m365\s+e3 \(license\)\s+no free SPE_E3 licence for carol@contoso\.com: all 2 are assigned \(subscribedSkus\); free one or buy more/,
      );
      expect(run.stdout).toMatch(
        /failed\s+bob\s+m365\s+e5 \(license\)\s+assigning licence SPE_E5 to bob\.okafor@contoso\.com: Graph answered 400 Request_BadRequest: License assignment cannot be done for user with invalid usage location\.; set the usage location of the user in Entra/,
      );
      expect(t.licensed(w.e3)).toEqual(['alice@contoso.com', 'erin@contoso.com']);
      expect(t.licensed(w.e5)).toEqual([]);
      expect(t.members(w.finance)).toEqual(['bob.okafor@contoso.com', 'c.nguyen@contoso.com']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('signs in with a certificate; refused credentials skip the app or stop its run, saying why, and no secret is ever printed', async () => {
    const w = await world();
    const { server } = w;
    const said: string[] = [];
    /** Everything a command printed (a plan's JSON holds its skip reasons): checked for secrets at the end. */
    const heard = <T>(r: T) => {
      said.push(JSON.stringify(r));
      return r;
    };
    try {
      const dir = accessRepo(w);
      // A wrong secret: plan skips the app with Entra's AADSTS code and what to check.
      const wrong = heard(await plan(dir, NOW, { ENTRA_SECRET: 'Wr0ng-Value~2' }));
      expect(wrong.changes).toEqual([]);
      expect(wrong.skipped[0]!.reason).toBe(
        `cannot observe: Entra refused the credentials of app ${CLIENT_ID} in tenant ${TENANT} (401 invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.); ENTRA_SECRET holds no valid client secret of the app (give the secret's Value, not its Secret ID)`,
      );
      server.expiredSecrets.add('0ld-Value~3');
      const expired = heard(await plan(dir, NOW, { ENTRA_SECRET: '0ld-Value~3' }));
      expect(expired.skipped[0]!.reason).toMatch(
        /AADSTS7000222: The provided client secret keys for app '.*' are expired\.\); the client secret in ENTRA_SECRET has expired/,
      );

      // A certificate uploaded to the app registration: a client assertion signed with its key, x5t its thumbprint.
      const uploaded = selfSigned('iden');
      server.addCertificate(uploaded.certificate);
      const byCertificate = appYaml(w).replace('clientSecretEnv: ENTRA_SECRET', 'certificateEnv: ENTRA_CERT');
      writeTree({ 'grants/m365/_app.yaml': byCertificate }, dir);
      commitAll(dir, 'sign in with a certificate');
      const signed = heard(await apply(dir, NOW, { ENTRA_CERT: uploaded.pem }));
      expect(signed.stdout).toContain('Applied: 9 granted, 0 revoked, 0 unchanged, 0 failed.');
      const form = server.tokenForms.at(-1)!;
      expect(form.get('client_secret')).toBeNull();
      expect(form.get('client_assertion_type')).toBe(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      const other = selfSigned('not uploaded');
      const unknown = heard(await plan(dir, NOW, { ENTRA_CERT: other.pem }));
      expect(unknown.skipped[0]!.reason).toMatch(
        /\(401 invalid_client: AADSTS700027: Client assertion contains an invalid signature\. .*\); the certificate in ENTRA_CERT is not one uploaded to the app registration/,
      );
      const garbled = heard(await plan(dir, NOW, { ENTRA_CERT: uploaded.privateKey }));
      expect(garbled.skipped[0]!.reason).toMatch(
        /^cannot observe: ENTRA_CERT does not hold a PEM certificate and its private key \(/,
      );

      // The secret is rotated mid-run: the app's remaining changes are not tried; nothing else is touched.
      writeTree({ 'grants/m365/_app.yaml': appYaml(w) }, dir);
      writeTree(
        {
          'grants/m365/alice.yaml':
            'user: alice\napp: m365\npermissions: [vpn, finance, sf-user]\nlicense: e3\n',
        },
        dir,
      );
      commitAll(dir, 'back to the secret; alice gets more');
      server.rotateAfter = server.graphCalls + 2;
      const stopped = heard(await apply(dir));
      expect(stopped.code).toBe(1);
      expect(stopped.stdout).toMatch(
        /failed\s+alice\s+m365\s+finance\s+Entra refused the credentials of app .* \(401 invalid_client: AADSTS7000215/,
      );

      const text = said.join('\n');
      for (const secret of [SECRET, 'Wr0ng-Value~2', '0ld-Value~3', ...server.issued])
        expect(text).not.toContain(secret);
      for (const key of [uploaded.privateKey, other.privateKey])
        expect(text).not.toContain(key.split('\n')[1]!);
      for (const form of server.tokenForms) {
        const assertion = form.get('client_assertion');
        if (assertion) expect(text).not.toContain(assertion.split('.')[2]!);
      }
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
