import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { commitAll } from '../helpers/git.js';
import {
  accessRepo,
  apply,
  brief,
  cli,
  NOW,
  type Org,
  okta,
  org,
  PEOPLE,
  plan,
  writes,
} from '../helpers/okta-org.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

describe('okta connector: a service app, admin roles, settings', () => {
  const READ = ['okta.groups.read', 'okta.apps.read'];
  const ALL = [...READ, 'okta.users.read', 'okta.groups.manage', 'okta.apps.manage'];

  function serviceRepo(o: Org, oauth: string) {
    const dir = writeTree({
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': PEOPLE,
      'grants/okta/_app.yaml': okta(o).replace(
        `timeoutMs: 2000 }`,
        `timeoutMs: 2000, oauth: { clientId: 0oaiden, privateKeyEnv: OKTA_KEY${oauth} } }`,
      ),
      'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales, sf-user]\n',
      'grants/okta/bob.yaml': 'user: bob\napp: okta\npermissions: [sales]\n',
      'grants/okta/mallory.yaml': 'user: mallory\napp: okta\npermissions: [eng]\n',
    });
    commitAll(dir, 'access through a service app');
    return dir;
  }

  it('signs in as a service app with a private-key JWT: read scopes to plan, manage scopes only to apply', async () => {
    const o = await org();
    const { server } = o;
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      server.serviceApp = { clientId: '0oaiden', key: publicKey, scopes: ALL };
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const dir = serviceRepo(o, '');
      const keyEnv = { OKTA_KEY: pem };
      const planned = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], keyEnv);
      expect((JSON.parse(planned.stdout) as Plan).skipped).toEqual([]);
      expect(brief(JSON.parse(planned.stdout) as Plan)).toEqual([
        'grant alice sales new-grant',
        'grant alice sf-user new-grant',
      ]);
      expect(server.tokenRequests).toEqual([READ.join(' ')]);
      const applied = await cli(o, ['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], keyEnv);
      expect(applied.stdout).toContain('Applied: 2 granted');
      // The apply observes with a read-only token, and asks for the manage scopes at its first write: once.
      expect(server.tokenRequests).toEqual([READ.join(' '), READ.join(' '), ALL.join(' ')]);
      const outputs = [planned.stdout, planned.stderr, applied.stdout, applied.stderr].join('\n');
      for (const secret of [...server.issued, pem.split('\n')[1]!]) expect(outputs).not.toContain(secret);

      // A JWK with its kid works too.
      const jwk = JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'iden-1' });
      const again = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], { OKTA_KEY: jwk });
      expect(brief(JSON.parse(again.stdout) as Plan)).toEqual([]);

      // A service app granted only the read scopes can plan; an apply stops at its first write and says what to grant.
      server.serviceApp.scopes = READ;
      writeTree({ 'grants/okta/carol.yaml': 'user: carol\napp: okta\npermissions: [sales]\n' }, dir);
      commitAll(dir, 'carol');
      const refused = await cli(o, ['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'], keyEnv);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(
        `Okta refused (invalid_scope: The following scopes were requested, but not granted: okta.users.read okta.groups.manage okta.apps.manage); grant the service app these scopes in Okta (Okta API Scopes tab): ${ALL.join(' ')}`,
      );

      // Another key: refused, with what to check, and the key never printed.
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const wrong = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
        OKTA_KEY: other,
      });
      expect((JSON.parse(wrong.stdout) as Plan).skipped[0]!.reason).toContain(
        'Okta refused (invalid_client: The client_assertion signature is invalid.); check the client id, and that the service app has the public key of this private key',
      );
      expect(wrong.stdout + wrong.stderr).not.toContain(other.split('\n')[1]!);
      const garbage = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW], {
        OKTA_KEY: 'not-a-key-secret',
      });
      expect((JSON.parse(garbage.stdout) as Plan).skipped[0]!.reason).toContain(
        'OKTA_KEY does not hold a private key iden can read',
      );
      expect(garbage.stdout).not.toContain('not-a-key-secret');
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('assigns and takes admin roles only where adminRoles allows; a role held through a group is not drift', async () => {
    const o = await org();
    const { server } = o;
    try {
      const bob = server.user('bob@example.com');
      const carol = server.user('carol@example.com');
      server.roles.set(bob.id, [{ id: 'ra1bob', type: 'APP_ADMIN', assignmentType: 'GROUP' }]);
      server.roles.set(carol.id, [{ id: 'ra1carol', type: 'READ_ONLY_ADMIN', assignmentType: 'USER' }]);
      const app = (extra: string) =>
        `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}'${extra} }\nentitlements:\n  - { id: app-admin, kind: role, role: APP_ADMIN }\n  - { id: read-only, kind: role, role: READ_ONLY_ADMIN }\n`;
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': PEOPLE,
        'grants/okta/_app.yaml': app(''),
        'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [app-admin]\n',
      });
      commitAll(dir, 'roles');
      const off = JSON.parse(
        (await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW])).stdout,
      ) as Plan;
      expect(off.skipped[0]!.reason).toBe(
        'cannot observe: app-admin, read-only are admin roles, which this app does not manage: set adminRoles: true in its connector block to let iden assign them',
      );
      writeTree({ 'grants/okta/_app.yaml': app(', adminRoles: true') }, dir);
      commitAll(dir, 'roles on');
      const p = await plan(o, dir);
      expect(brief(p)).toEqual(['grant alice app-admin new-grant']);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['carol read-only']);
      expect((await apply(o, dir)).code).toBe(0);
      const alice = server.user('alice@example.com');
      expect(server.roles.get(alice.id)!.map((r) => r.type)).toEqual(['APP_ADMIN']);
      const assignment = server.roles.get(alice.id)![0]!.id;
      rmSync(`${dir}/grants/okta/alice.yaml`);
      commitAll(dir, 'alice is no longer an app admin');
      expect(brief(await plan(o, dir))).toEqual(['revoke alice app-admin removed']);
      server.requests.length = 0;
      expect((await apply(o, dir)).code).toBe(0);
      expect(writes(server)).toEqual([`DELETE /api/v1/users/${alice.id}/roles/${assignment}`]);
      expect(server.roles.get(alice.id)).toEqual([]);
      expect(server.roles.get(bob.id)).toHaveLength(1);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it.each([
    [
      'a group that is not there',
      '  - { id: gone, kind: group, group: nope }\n',
      'no Okta group named "nope"; create it in Okta first',
    ],
    [
      'a group Active Directory feeds',
      '  - { id: ad, kind: group, group: ad-staff }\n',
      'group ad-staff is of type APP_GROUP: its members are managed in the directory or app that imports it (map it there), not through the API',
    ],
    [
      'a group mapped twice',
      '  - { id: sales-again, kind: group, group: Salesforce-Users }\n',
      'sales and sales-again both map to group salesforce-users',
    ],
    ['an app that is not there', '  - { id: wiki, kind: app, app: Wiki }\n', 'no Okta app labelled "Wiki"'],
  ])('skips the app, without retrying, for %s', async (_, entitlement, reason) => {
    const o = await org();
    try {
      o.server.addGroup('ad-staff', { type: 'APP_GROUP' });
      const dir = accessRepo(o, {}, entitlement);
      const p = await plan(o, dir);
      expect(p.skipped[0]!.reason).toContain(reason);
      expect(p.skipped[0]!.reason).not.toContain('attempts');
    } finally {
      await o.server.stop();
    }
  });

  it('finds a user Okta’s search has not indexed yet by their login, and only then', async () => {
    const o = await org();
    try {
      o.server.addUser('newcomer@example.com', { indexed: false });
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `${PEOPLE}  - { id: newcomer, name: New, email: newcomer@example.com }\n`,
        'grants/okta/_app.yaml': okta(o),
        'grants/okta/newcomer.yaml': 'user: newcomer\napp: okta\npermissions: [sales]\n',
        'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales]\n',
      });
      commitAll(dir, 'newcomer');
      expect((await apply(o, dir)).stdout).toContain('Applied: 2 granted');
      expect(o.server.requests.filter((r) => r.startsWith('GET /api/v1/users'))).toEqual([
        'GET /api/v1/users',
        'GET /api/v1/users/newcomer%40example.com',
      ]);
      expect(o.server.members(o.sales)).toEqual([
        'alice@example.com',
        'bob@example.com',
        'newcomer@example.com',
      ]);
      expect(o.server.errors).toEqual([]);
    } finally {
      await o.server.stop();
    }
  });
});
