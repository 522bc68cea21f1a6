import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectors } from '../../src/connectors/catalog.js';
import type { Change } from '../../src/connectors/types.js';
import type { AppFile, Person } from '../../src/model/repo.js';
import { selfSigned } from '../helpers/certificate.js';
import { CLIENT_ID, EntraServer, TENANT } from '../helpers/entra-server.js';
import {
  accessRepo,
  apply,
  appYaml,
  brief,
  connector,
  NOW,
  plan,
  SECRET,
  world,
} from '../helpers/entra-world.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

describe('entra connector under faults: throttling, timeouts, full licences, refused credentials', () => {
  it('completes a run throttled mid-way (429 and 503 with Retry-After, a whole batch refused, a call never answered), each change once', async () => {
    const server = await new EntraServer().start();
    const t = server.tenant;
    try {
      const vpn = t.addGroup('VPN Users');
      const e3 = t.addSku('SPE_E3', 60);
      const ids = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`);
      for (const id of ids) t.addUser(`${id}@contoso.com`);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@contoso.com }\n`).join('')}`,
        'grants/m/_app.yaml': `name: M\nconnector: ${connector(server, ', timeoutMs: 1000')}\nentitlements:\n  - { id: vpn, kind: group, group: VPN Users }\nlicenses:\n  - { id: e3, seats: 100, sku: SPE_E3 }\n`,
        ...Object.fromEntries(
          ids.map((id) => [`grants/m/${id}.yaml`, `user: ${id}\napp: m\npermissions: [vpn]\nlicense: e3\n`]),
        ),
      });
      commitAll(dir, 'sixty people');
      // The first call to Graph is never answered, nor the fourth carrying writes; a read is unavailable
      // once; seven writes are throttled from the 25th on, across two batches; the fourth batch is refused whole.
      server.hang(1);
      server.hang(1, 'write', 3);
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

  it('hands Graph’s Retry-After to the retry layer, and sends again only what was not served', async () => {
    const w = await world();
    const { server } = w;
    try {
      const people = new Map<string, Person>([
        ['alice', { id: 'alice', name: 'Alice', email: 'alice@contoso.com' }],
        ['carol', { id: 'carol', name: 'Carol', email: 'carol@contoso.com' }],
      ]);
      w.e5.enabled = 1;
      const session = await connectors.entra!.open(
        { id: 'm365', file: parse(appYaml(w)) as AppFile },
        { repoRoot: '.', env: { ENTRA_SECRET: SECRET }, lockTimeoutMs: 0, people },
      );
      expect(await session.observe()).toEqual([]);
      const change = (user: string, entitlement: string): Change => ({
        app: 'm365',
        user,
        account: `${user}@contoso.com`,
        entitlement,
        action: 'grant',
        reason: 'new-grant',
      });
      const changes = [change('alice', 'vpn'), change('carol', 'vpn'), change('carol', 'sf-admin')];
      const [step] = session.steps(changes);
      // The second write is throttled for 7 s: the step is transient, with that wait.
      server.fail({ status: 429, on: 'write', after: 1, times: 1, retryAfter: 7 });
      await expect(step!.run()).rejects.toMatchObject({ name: 'TransientError', retryAfterMs: 7000 });
      const sent = server.operations.length;
      const results = await step!.run();
      expect(results.map((r) => `${r.change.user} ${r.change.entitlement} ${r.outcome}`)).toEqual([
        'alice vpn granted',
        'carol vpn granted',
        'carol sf-admin granted',
      ]);
      expect(server.operations.slice(sent)).toEqual(['POST /groups/{group-id}/members/$ref']);
      // A whole batch refused: every request waits as long.
      server.fail({ status: 503, on: 'batch', times: 1, retryAfter: 2 });
      const more = session.steps([change('alice', 'sf-user'), change('alice', 'finance')]);
      await expect(more[0]!.run()).rejects.toMatchObject({ name: 'TransientError', retryAfterMs: 2000 });
      expect((await more[0]!.run()).map((r) => r.outcome)).toEqual(['granted', 'granted']);
      // The last E5 licence: a request dropped unanswered gives back the seat it took, so trying again finds it.
      const { entitlement: _, ...rest } = change('alice', 'vpn');
      const licence = session.steps([{ ...rest, license: 'e5' }]);
      server.drop(1, 'write');
      await expect(licence[0]!.run()).rejects.toMatchObject({
        name: 'TransientError',
        message: expect.stringMatching(/^POST \/users\/[^/]+\/assignLicense: /),
      });
      expect((await licence[0]!.run()).map((r) => r.outcome)).toEqual(['granted']);
      await session.close();
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('the loopback Entra server', () => {
  it('refuses, and records, what Graph’s description does not allow', async () => {
    const server = await new EntraServer().start();
    try {
      const form = {
        client_id: CLIENT_ID,
        scope: `${server.url}/.default`,
        grant_type: 'client_credentials',
      };
      const token = (await (
        await fetch(server.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ ...form, client_secret: SECRET }),
        })
      ).json()) as { access_token: string };
      const call = async (method: string, path: string, body?: unknown) =>
        (
          await fetch(`${server.graphUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          })
        ).status;
      const user = server.tenant.addUser('alice@contoso.com');
      expect(await call('GET', '/users?$select=id,favouriteColour')).toBe(400);
      expect(await call('POST', `/users/${user.id}/assignLicense`, { addLicenses: [{ skuId: 'E3' }] })).toBe(
        400,
      );
      expect(await call('GET', '/users?$skiptoken=forged')).toBe(400);
      expect(await call('GET', '/devices')).toBe(400);
      const get = { method: 'GET', url: '/users' };
      expect(
        await call('POST', '/$batch', {
          requests: Array.from({ length: 21 }, (_, i) => ({ ...get, id: `${i}` })),
        }),
      ).toBe(400);
      expect(
        await call('POST', '/$batch', {
          requests: [{ id: '1', method: 'POST', url: '/groups/x/members/$ref', body: {} }],
        }),
      ).toBe(400);
      expect(server.errors).toHaveLength(6);
      // What Graph itself refuses is its answer, not the client's fault.
      expect(await call('GET', '/users?$top=1000')).toBe(400);
      expect(await call('GET', '/users')).toBe(200);
      expect(server.errors).toHaveLength(6);
    } finally {
      await server.stop();
    }
  });
});
