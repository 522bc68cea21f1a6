import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { type Faults, GoogleServer } from '../helpers/google-server.js';
import { writeTree } from '../helpers/repo.js';

const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: a Retry-After of a second is waited a few milliseconds. */
const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
const STARTER = '1010020027';
const STANDARD = '1010020028';
const SERVICE_ACCOUNT = 'iden@acme-iden.iam.gserviceaccount.com';

/**
 * A Workspace on loopback (acme.com: alice, bob, carol, dave, the admin; the
 * groups eng-oncall@ and design@; Business Starter and Standard with ten
 * licences each) and a service account key the token endpoint trusts.
 */
async function google(faults: Faults = {}) {
  const server = new GoogleServer();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  server.serviceAccount = { email: SERVICE_ACCOUNT, publicKey };
  Object.assign(server.faults, faults);
  const w = server.workspace;
  for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'iden-admin']) w.addUser(`${u}@acme.com`);
  w.addGroup('eng-oncall@acme.com');
  w.addGroup('design@acme.com');
  w.addSku('Google-Apps', STARTER, 10);
  w.addSku('Google-Apps', STANDARD, 10);
  await server.start();
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = JSON.stringify({
    type: 'service_account',
    project_id: 'acme-iden',
    private_key_id: 'k1',
    private_key: pem,
    client_email: SERVICE_ACCOUNT,
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { server, pem, env: { GOOGLE_WORKSPACE_CREDENTIALS: key } };
}

function appYaml(server: GoogleServer, extra = '') {
  return `name: Google Workspace
connector:
  type: google-workspace
  adminEmail: iden-admin@acme.com
  customer: C0iden42
  tokenUri: ${server.urls.token}
  directoryUrl: ${server.urls.directory}
  licensingUrl: ${server.urls.licensing}
${extra}entitlements:
  - { id: eng-oncall, kind: group, group: eng-oncall@acme.com }
  - { id: eng-oncall-owner, kind: group, group: Eng-Oncall@acme.com, role: OWNER }
  - { id: design, kind: group, group: design@acme.com }
licenses:
  - { id: starter, seats: 5, productId: Google-Apps, skuId: "${STARTER}" }
  - { id: standard, seats: 5, productId: Google-Apps, skuId: "${STANDARD}" }
`;
}

const PEOPLE = `people:
  - { id: alice, name: Alice, email: alice@acme.com }
  - { id: bob, name: Bob, email: Bob@acme.com }
  - { id: carol, name: Carol, email: carol@acme.com }
  - { id: dave, name: Dave, email: dave@acme.com }
  - { id: yan, name: Yan, email: yan@acme.com }
  - { id: zed, name: Zed, email: zed@gmail.com }
`;

function accessRepo(server: GoogleServer, grants: Record<string, string>, extra = '') {
  const dir = writeTree({
    'grants/_people.yaml': PEOPLE,
    'grants/gws/_app.yaml': appYaml(server, extra),
    ...Object.fromEntries(
      Object.entries(grants).map(([user, body]) => [
        `grants/gws/${user}.yaml`,
        `user: ${user}\napp: gws\n${body}`,
      ]),
    ),
  });
  commitAll(dir, 'google workspace access');
  return dir;
}

const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

async function plan(dir: string, env: NodeJS.ProcessEnv, at = NOW): Promise<Plan> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], { env, retry: FAST });
  return JSON.parse(result.stdout) as Plan;
}

const apply = (dir: string, env: NodeJS.ProcessEnv, at = NOW, ...extra: string[]) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra], { env, retry: FAST });

describe('google-workspace connector through the CLI, against a loopback Google', () => {
  it('grants, changes, ends and revokes group roles and licence tiers, in batch requests', async () => {
    const { server, env } = await google();
    try {
      const dir = accessRepo(server, {
        alice: 'permissions: [eng-oncall, design]\nlicense: standard\n',
        bob: 'permissions: [eng-oncall-owner]\nlicense: starter\n',
        carol: 'permissions: [design]\nlicense: starter\nend: 2026-12-15\n',
      });
      expect(brief(await plan(dir, env))).toEqual([
        'grant alice design new-grant',
        'grant alice eng-oncall new-grant',
        'grant alice standard new-grant',
        'grant bob eng-oncall-owner new-grant',
        'grant bob starter new-grant',
        'grant carol design new-grant',
        'grant carol starter new-grant',
      ]);
      server.http.length = 0;
      const first = await apply(dir, env);
      expect(first.stdout).toContain('Applied: 7 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(first.code).toBe(0);
      const w = server.workspace;
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER', 'bob@acme.com OWNER']);
      expect(w.members('design@acme.com')).toEqual(['alice@acme.com MEMBER', 'carol@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STANDARD)).toEqual(['alice@acme.com']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['bob@acme.com', 'carol@acme.com']);
      // One token; the reads of both groups in one batch, the two tiers in another; then the four
      // memberships in one batch and the three licences in another.
      expect(server.http).toEqual([
        'token POST /token',
        'directory POST /batch',
        'licensing POST /batch',
        'directory POST /batch',
        'licensing POST /batch',
      ]);
      expect(brief(await plan(dir, env))).toEqual([]);

      // alice moves to Starter and leaves design; bob is no longer an owner, only a member.
      writeTree(
        {
          'grants/gws/alice.yaml': 'user: alice\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n',
          'grants/gws/bob.yaml': 'user: bob\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n',
        },
        dir,
      );
      commitAll(dir, 'alice to starter, bob steps down');
      expect(brief(await plan(dir, env))).toEqual([
        'revoke alice design changed',
        'revoke alice standard changed',
        'grant alice starter changed',
        'revoke bob eng-oncall-owner changed',
      ]);
      server.requests.length = 0;
      const changed = await apply(dir, env);
      expect(changed.stdout).toContain('Applied: 1 granted, 3 revoked, 0 unchanged, 0 failed.');
      // One reassignment of the SKU, no second licence; bob's role lowered, not his membership removed.
      expect(server.requests.filter((r) => !r.startsWith('GET'))).toEqual([
        `PATCH /apps/licensing/v1/product/Google-Apps/sku/${STANDARD}/user/alice%40acme.com`,
        'DELETE /admin/directory/v1/groups/design%40acme.com/members/alice%40acme.com',
        'PATCH /admin/directory/v1/groups/eng-oncall%40acme.com/members/bob%40acme.com',
      ]);
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER', 'bob@acme.com MEMBER']);
      expect(w.members('design@acme.com')).toEqual(['carol@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com', 'bob@acme.com', 'carol@acme.com']);
      expect(w.holders('Google-Apps', STANDARD)).toEqual([]);
      expect(brief(await plan(dir, env))).toEqual([]);

      // carol's grant ends: her group and her licence go.
      const end = '2026-12-16T00:00:00Z';
      expect(brief(await plan(dir, env, end))).toEqual([
        'revoke carol design expired',
        'revoke carol starter expired',
      ]);
      expect((await apply(dir, env, end)).code).toBe(0);
      expect(w.members('design@acme.com')).toEqual([]);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com', 'bob@acme.com']);

      // bob's grant is deleted: he leaves the group and gives his licence back.
      rmSync(join(dir, 'grants/gws/bob.yaml'));
      commitAll(dir, 'bob leaves');
      expect(brief(await plan(dir, env, end))).toEqual([
        'revoke bob eng-oncall removed',
        'revoke bob starter removed',
      ]);
      expect((await apply(dir, env, end)).code).toBe(0);
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com']);
      expect(brief(await plan(dir, env, end))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
