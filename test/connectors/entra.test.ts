import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { EntraServer } from '../helpers/entra-server.js';
import {
  accessRepo,
  apply,
  appYaml,
  brief,
  connector,
  env,
  FAST,
  NOW,
  plan,
  world,
} from '../helpers/entra-world.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

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
        'grants/_settings.yaml': NO_VERIFY,
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
});
