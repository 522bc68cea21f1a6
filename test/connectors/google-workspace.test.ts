import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { Discovery, toJsonSchema } from '../helpers/google-discovery.js';
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

  it('shows access given by hand as drift, keeps it, and with prune takes it away: a member, an owner', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      w.setMember('eng-oncall@acme.com', 'mallory@acme.com');
      w.setMember('eng-oncall@acme.com', 'dave@acme.com', 'OWNER');
      // A nested group and the whole domain: neither seen as people nor managed.
      w.setMember('design@acme.com', 'everyone@acme.com', 'MEMBER', 'GROUP');
      const dir = accessRepo(server, { dave: 'permissions: [eng-oncall]\nlicense: starter\n' });
      w.skus.get(`Google-Apps/${STARTER}`)!.holders.set('dave@acme.com', 'dave@acme.com');
      const p = await plan(dir, env);
      // dave is an owner, which includes the membership his grant gives: satisfied; the owner role is drift.
      expect(brief(p)).toEqual([]);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual([
        'dave eng-oncall-owner',
        'mallory@acme.com eng-oncall',
      ]);
      const shown = await runCli(['plan', '--repo', dir, '--at', NOW], { env, retry: FAST });
      expect(shown.stderr).toContain(
        'notice: gws: design@acme.com has a member that is not a user (everyone@acme.com): who they give access to is neither seen nor managed here',
      );
      writeFileSync(join(dir, 'grants/gws/_app.yaml'), `${appYaml(server)}prune: true\n`);
      commitAll(dir, 'prune');
      expect(brief(await plan(dir, env))).toEqual([
        'revoke dave eng-oncall-owner drift',
        'revoke mallory@acme.com eng-oncall drift',
      ]);
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
      // dave keeps the membership his grant gives, as a member; mallory leaves.
      expect(w.members('eng-oncall@acme.com')).toEqual(['dave@acme.com MEMBER']);
      expect(w.members('design@acme.com')).toEqual(['everyone@acme.com MEMBER']);
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('fails only the change of a person who is not a Workspace user, or whose address is outside its domains', async () => {
    const { server, env } = await google();
    try {
      server.workspace.addUser('carol.n@acme.com');
      server.workspace.users.get('carol@acme.com')!.aliases.push('carol.n@acme.com');
      server.workspace.users.delete('carol.n@acme.com');
      const dir = accessRepo(server, {
        alice: 'permissions: [eng-oncall]\nlicense: starter\n',
        yan: 'permissions: [eng-oncall]\nlicense: starter\n',
        zed: 'permissions: [design]\nlicense: starter\n',
      });
      const run = await apply(dir, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 4 failed.');
      expect(run.stdout).toContain(
        'adding yan@acme.com to eng-oncall@acme.com as MEMBER: yan@acme.com is not a user of the Google Workspace of app gws (Google answered 404 notFound: Resource Not Found: memberKey); iden neither creates nor deletes users',
      );
      expect(run.stdout).toContain(
        'assigning Google-Apps/1010020027 to yan@acme.com: yan@acme.com is not a user of the Google Workspace of app gws (Google answered 400 invalid: Invalid Input: userId)',
      );
      expect(run.stdout).toContain(
        'adding zed@gmail.com to design@acme.com as MEMBER: zed@gmail.com is not an address of this Google Workspace (acme.com); iden gives access only to its users',
      );
      // Nothing was asked of Google for zed.
      expect(server.requests.filter((r) => r.includes('zed'))).toEqual([]);
      expect(server.workspace.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('says when an account is an alias of the member Google added, and fails it clearly once it is', async () => {
    const { server, env } = await google();
    try {
      server.workspace.users.get('carol@acme.com')!.aliases.push('carol.n@acme.com');
      const dir = writeTree({
        'grants/_people.yaml': 'people:\n  - { id: carol, name: Carol, email: carol.n@acme.com }\n',
        'grants/gws/_app.yaml': appYaml(server).replace(/licenses:[\s\S]*$/, ''),
        'grants/gws/carol.yaml': 'user: carol\napp: gws\npermissions: [design]\n',
      });
      commitAll(dir, 'carol by her alias');
      const first = await apply(dir, env);
      expect(first.stderr).toContain(
        'notice: gws: carol.n@acme.com is another address (an alias) of carol@acme.com, whom Google added to design@acme.com: give accounts.gws: carol@acme.com in grants/_people.yaml',
      );
      const again = await apply(dir, env);
      expect(again.stdout).toContain(
        'carol.n@acme.com is another address (an alias) of carol@acme.com, who is a member already: give accounts.gws: carol@acme.com in grants/_people.yaml',
      );
      expect(server.workspace.members('design@acme.com')).toEqual(['carol@acme.com MEMBER']);
      writeTree(
        {
          'grants/_people.yaml':
            'people:\n  - { id: carol, name: Carol, email: carol.n@acme.com, accounts: { gws: carol@acme.com } }\n',
        },
        dir,
      );
      commitAll(dir, 'carol by her primary address');
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('google-workspace connector at scale and under faults', () => {
  it('reads a group of 2,000 members page by page, adds to it in one batch, and stops a mass removal', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      const ids = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
      for (const id of ids) w.addUser(`${id}@acme.com`);
      for (const id of ids.slice(0, 1990)) w.setMember('eng-oncall@acme.com', `${id}@acme.com`);
      const dir = writeTree({
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@acme.com }\n`).join('')}`,
        'grants/gws/_app.yaml': appYaml(server).replace(/licenses:[\s\S]*$/, ''),
        ...Object.fromEntries(
          ids.map((id) => [`grants/gws/${id}.yaml`, `user: ${id}\napp: gws\npermissions: [eng-oncall]\n`]),
        ),
      });
      commitAll(dir, '2,000 people on call');
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 10 granted, 0 revoked, 0 unchanged, 0 failed.');
      // Ten pages of 200 (the most members.list gives), the other groups' first page shared with them;
      // the ten additions in one batch.
      expect(server.count('GET /admin/directory/v1/groups/eng-oncall%40acme.com/members')).toBe(10);
      expect(server.count('POST /admin/directory/v1/groups/eng-oncall%40acme.com/members')).toBe(10);
      expect(server.http.filter((h) => h.startsWith('directory'))).toEqual([
        'directory POST /batch',
        ...Array(9).fill('directory GET /admin/directory/v1/groups/eng-oncall%40acme.com/members'),
        'directory POST /batch',
      ]);
      expect(w.members('eng-oncall@acme.com')).toHaveLength(2000);
      expect(brief(await plan(dir, env))).toEqual([]);

      for (const id of ids.slice(0, 60)) rmSync(join(dir, `grants/gws/${id}.yaml`));
      commitAll(dir, 'sixty leave');
      const held = await apply(dir, env);
      expect(held.code).not.toBe(0);
      expect(held.stdout + held.stderr).toContain('more than limits.maxRemovals (50)');
      expect(w.members('eng-oncall@acme.com')).toHaveLength(2000);
      server.http.length = 0;
      const allowed = await apply(dir, env, NOW, '--allow-mass-removal');
      expect(allowed.stdout).toContain('Applied: 0 granted, 60 revoked, 0 unchanged, 0 failed.');
      // The reads as before, then the sixty removals in one batch.
      expect(server.http).toHaveLength(1 + 1 + 9 + 1);
      expect(server.http.at(-1)).toBe('directory POST /batch');
      expect(w.members('eng-oncall@acme.com')).toHaveLength(1940);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it.each([
    [403, 'userRateLimitExceeded'],
    [429, 'rateLimitExceeded'],
  ] as const)('converges through %s %s mid-run, retrying only what was refused', async (status, reason) => {
    // The reads (two groups, two tiers) pass; then ten of the thirty writes are refused.
    const { server, env } = await google({ rateLimit: { after: 4 + 5, count: 10, status, reason } });
    try {
      const ids = Array.from({ length: 15 }, (_, i) => `q${i}`);
      for (const id of ids) server.workspace.addUser(`${id}@acme.com`);
      const dir = writeTree({
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@acme.com }\n`).join('')}`,
        'grants/gws/_app.yaml': appYaml(server),
        ...Object.fromEntries(
          ids.map((id) => [
            `grants/gws/${id}.yaml`,
            `user: ${id}\napp: gws\npermissions: [design]\nlicense: starter\n`,
          ]),
        ),
      });
      // Fifteen starters: more than the tier's five seats, so the repository says how many.
      writeFileSync(
        join(dir, 'grants/gws/_app.yaml'),
        appYaml(server).replace(
          'seats: 5, productId: Google-Apps, skuId: "1010020027"',
          'seats: 15, productId: Google-Apps, skuId: "1010020027"',
        ),
      );
      server.workspace.skus.get(`Google-Apps/${STARTER}`)!.bought = 15;
      commitAll(dir, 'fifteen people');
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 30 granted, 0 revoked, 0 unchanged, 0 failed.');
      // Each write once, and again only the ten refused.
      const writes = server.requests.filter((r) => r.startsWith('POST /admin') || r.startsWith('POST /apps'));
      expect(writes).toHaveLength(30 + 10);
      expect(server.workspace.members('design@acme.com')).toHaveLength(15);
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('rides out a burst of 503s while reading and while writing', async () => {
    const { server, env } = await google({ unavailable: 3 });
    try {
      const dir = accessRepo(server, { alice: 'permissions: [eng-oncall]\nlicense: starter\n' });
      expect(brief(await plan(dir, env))).toEqual([
        'grant alice eng-oncall new-grant',
        'grant alice starter new-grant',
      ]);
      server.faults.unavailable = 2;
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('abandons a request Google never answers after timeoutMs, and tries it again', async () => {
    const { server, env } = await google({ hang: 1 });
    try {
      const dir = accessRepo(
        server,
        { alice: 'permissions: [eng-oncall]\nlicense: starter\n' },
        '  timeoutMs: 300\n',
      );
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(server.http.filter((h) => h === 'directory POST /batch').length).toBeGreaterThanOrEqual(2);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('google-workspace connector: credentials', () => {
  it('skips the app when the token endpoint refuses the service account, printing no secret', async () => {
    const { server, env, pem } = await google({ refuseTokens: true });
    try {
      const dir = accessRepo(server, { alice: 'permissions: [eng-oncall]\nlicense: starter\n' });
      const run = await runCli(['plan', '--repo', dir, '--at', NOW], { env, retry: FAST });
      expect(run.stdout).toContain(
        `gws skipped: cannot observe: cannot read the Google Workspace: the token endpoint refused service account ${SERVICE_ACCOUNT} acting as iden-admin@acme.com (invalid_grant: Invalid JWT: No valid verifier found for issuer.): check the key in GOOGLE_WORKSPACE_CREDENTIALS, and that domain-wide delegation gives its client id the scopes https://www.googleapis.com/auth/admin.directory.group.member, https://www.googleapis.com/auth/apps.licensing`,
      );
      // Another key's signature is refused as Google refuses it.
      server.faults.refuseTokens = false;
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const forged = {
        GOOGLE_WORKSPACE_CREDENTIALS: env.GOOGLE_WORKSPACE_CREDENTIALS.replace(
          JSON.stringify(pem).slice(1, -1),
          JSON.stringify(other).slice(1, -1),
        ),
      };
      const bad = await runCli(['plan', '--repo', dir, '--at', NOW], { env: forged, retry: FAST });
      expect(bad.stdout).toContain('(invalid_grant: Invalid JWT Signature.)');
      const notJson = await runCli(['plan', '--repo', dir, '--at', NOW], {
        env: { GOOGLE_WORKSPACE_CREDENTIALS: pem },
        retry: FAST,
      });
      expect(notJson.stdout).toContain(
        "GOOGLE_WORKSPACE_CREDENTIALS is not a service account's JSON key (it is not JSON)",
      );
      for (const out of [run, bad, notJson]) {
        const printed = out.stdout + out.stderr;
        expect(printed).not.toContain('PRIVATE KEY');
        expect(printed).not.toContain(pem.split('\n')[1]!);
        expect(printed).not.toContain('ya29.');
      }
      const missing = await runCli(['plan', '--repo', dir, '--at', NOW, '--strict'], { env: {} });
      expect(missing.stdout).toContain(
        'error: gws skipped: no credentials: GOOGLE_WORKSPACE_CREDENTIALS is not set',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('stops the app when its key is revoked mid-run: the endpoint is asked once, the rest is not sent', async () => {
    const { server, env } = await google();
    try {
      const dir = accessRepo(
        server,
        {
          alice: 'permissions: [eng-oncall]\nlicense: starter\n',
          bob: 'permissions: [design]\nlicense: starter\n',
        },
        '  batchSize: 1\n',
      );
      // The four reads pass, then every token is revoked and none is given again.
      server.faults.revokeAfter = 4;
      const run = await apply(dir, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 0 granted, 0 revoked, 0 unchanged, 4 failed.');
      expect(run.stdout.match(/the token endpoint refused service account/g)).toHaveLength(4);
      // The first token, then one refused request for another; after the first write of each API
      // (refused 401), no other is sent.
      expect(server.http.filter((h) => h.startsWith('token'))).toHaveLength(2);
      expect(server.requests.filter((r) => !r.startsWith('GET'))).toHaveLength(2);
      expect(run.stdout + run.stderr).not.toContain('ya29.');
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('google-workspace connector: adoption and seats', () => {
  it('imports what the Workspace holds, after which the plan is empty', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      w.setMember('eng-oncall@acme.com', 'alice@acme.com');
      w.setMember('eng-oncall@acme.com', 'bob@acme.com', 'OWNER');
      w.setMember('eng-oncall@acme.com', 'mallory@acme.com');
      w.skus.get(`Google-Apps/${STANDARD}`)!.holders.set('alice@acme.com', 'alice@acme.com');
      w.skus.get(`Google-Apps/${STARTER}`)!.holders.set('bob@acme.com', 'bob@acme.com');
      const dir = accessRepo(server, {});
      const imported = await runCli(['import', '--repo', dir, '--app', 'gws', '--format', 'json'], { env });
      expect(imported.code).toBe(0);
      const result = JSON.parse(imported.stdout) as { written: string[]; unmatched: string[] };
      expect(result.written).toEqual(['grants/gws/alice.yaml', 'grants/gws/bob.yaml']);
      expect(result.unmatched).toEqual(['mallory@acme.com']);
      expect(readFileSync(join(dir, 'grants/gws/bob.yaml'), 'utf8')).toContain(
        'permissions: [eng-oncall-owner]\nlicense: starter\n',
      );
      commitAll(dir, 'imported');
      const p = await plan(dir, env);
      expect(brief(p)).toEqual([]);
      expect(p.drift.map((d) => d.user)).toEqual(['mallory@acme.com']);
      const observed = await runCli(['access', '--repo', dir, '--at', NOW, '--observed'], { env });
      expect(observed.code).toBe(0);
      expect(observed.stdout).toMatch(/bob\s+Bob\s+gws\s+eng-oncall-owner, \(starter\)\s+active\s+in-sync/);
      expect(observed.stdout).toContain(
        'drift: mallory@acme.com holds eng-oncall in gws, which no grant gives',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('skips the app, saying why, when a group does not exist, a mapping is doubled, or tiers lack the customer', async () => {
    const { server, env } = await google();
    try {
      server.workspace.groups.delete('design@acme.com');
      const dir = accessRepo(server, {});
      const skipped = async () => (await plan(dir, env)).skipped.map((s) => s.reason);
      expect(await skipped()).toEqual([
        "cannot observe: cannot read the Google Workspace: reading the members of design@acme.com: Google answered 404 notFound: Resource Not Found: groupKey; correct the group's address, or the tier's productId and skuId, in _app.yaml",
      ]);
      server.workspace.addGroup('design@acme.com');
      writeFileSync(
        join(dir, 'grants/gws/_app.yaml'),
        appYaml(server)
          .replace('  customer: C0iden42\n', '')
          .replace(
            'entitlements:\n',
            'entitlements:\n  - { id: oncall, kind: group, group: ENG-ONCALL@acme.com }\n',
          ),
      );
      commitAll(dir, 'doubled');
      expect(await skipped()).toEqual([
        'cannot observe: entitlements oncall and eng-oncall both give the MEMBER role in eng-oncall@acme.com: each must be its own',
      ]);
      writeFileSync(join(dir, 'grants/gws/_app.yaml'), appYaml(server).replace('  customer: C0iden42\n', ''));
      commitAll(dir, 'no customer');
      expect((await skipped())[0]).toContain(
        'the app declares tiers, and the License Manager lists licences only by customer: set connector.customer',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('takes a mapping _app.yaml no longer declares from whoever holds it, unless only its letter case changed', async () => {
    const { server, env } = await google();
    try {
      const dir = accessRepo(server, { alice: 'permissions: [eng-oncall, design]\nlicense: starter\n' });
      expect((await apply(dir, env)).code).toBe(0);
      // design is no longer offered (and alice's grant no longer names it); eng-oncall's address is respelt.
      writeFileSync(
        join(dir, 'grants/gws/_app.yaml'),
        appYaml(server)
          .replace('  - { id: design, kind: group, group: design@acme.com }\n', '')
          .replace('group: eng-oncall@acme.com }', 'group: ENG-ONCALL@ACME.COM }'),
      );
      writeTree(
        { 'grants/gws/alice.yaml': 'user: alice\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n' },
        dir,
      );
      commitAll(dir, 'design is retired');
      expect(brief(await plan(dir, env))).toEqual(['revoke alice design@retired-2 retired']);
      expect((await apply(dir, env)).code).toBe(0);
      expect(server.workspace.members('design@acme.com')).toEqual([]);
      expect(server.workspace.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("counts the licences Google has assigned against a tier's seats", async () => {
    const { server, env } = await google();
    try {
      const holders = server.workspace.skus.get(`Google-Apps/${STARTER}`)!.holders;
      for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'iden-admin'])
        holders.set(`${u}@acme.com`, `${u}@acme.com`);
      const dir = accessRepo(server, {});
      const run = await runCli(['plan', '--repo', dir, '--at', NOW], { env, retry: FAST });
      expect(run.stderr).toContain(
        'notice: gws: tier starter: 6 licences of Google-Apps/1010020027 are assigned in Google Workspace, more than its 5 seats',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('google-workspace connector: its parts', () => {
  it('paces each API within its quota a minute, reckoned on the clock, never slept here', async () => {
    const { Pacer } = await import('../../src/connectors/google-workspace/pacer.js');
    const { ManualClock } = await import('../../src/model/clock.js');
    const clock = new ManualClock(0);
    const notices: string[] = [];
    const pacer = new Pacer(2400, clock, 'the Directory API', (t) => notices.push(t));
    const sent: { at: number; units: number }[] = [];
    // 5,100 requests in batches of 1,000 or fewer, as a first apply of 5,000 people sends them.
    for (const units of [100, 1000, 1000, 1000, 1000, 1000]) {
      const taken = pacer.take(units);
      for (let next = clock.next(); next !== undefined; next = clock.next()) clock.set(next);
      await taken;
      sent.push({ at: clock.now(), units });
    }
    for (const s of sent) {
      const inWindow = sent
        .filter((t) => t.at > s.at - 60_000 && t.at <= s.at)
        .reduce((n, t) => n + t.units, 0);
      expect(inWindow).toBeLessThanOrEqual(2400);
    }
    expect(sent.map((s) => s.at)).toEqual([0, 0, 0, 60_000, 60_000, 120_000]);
    expect(pacer.waitedMs).toBe(120_000);
    expect(notices[0]).toBe(
      'the Directory API allows 2400 requests a minute (requestsPerMinute): waiting 1m',
    );
  });

  it('turns Discovery schemas into JSON Schema, with what a method requires', () => {
    const schema = {
      type: 'object',
      properties: {
        userId: { type: 'string', annotations: { required: ['licensing.licenseAssignments.insert'] } },
        quota: { type: 'string', format: 'int64' },
        member: { $ref: 'Member' },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
        custom: { type: 'object', additionalProperties: { type: 'any' } },
      },
    };
    expect(toJsonSchema(schema, 'licensing.licenseAssignments.insert')).toEqual({
      type: 'object',
      properties: {
        userId: { type: 'string' },
        quota: { type: 'string', pattern: '^-?[0-9]+$' },
        member: { $ref: '#/definitions/Member' },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
        custom: { type: 'object', additionalProperties: {} },
      },
      required: ['userId'],
      additionalProperties: false,
    });
    expect(toJsonSchema(schema, 'licensing.licenseAssignments.patch')).not.toHaveProperty('required');
  });

  it("refuses what the Discovery documents do not describe: the server's checks have teeth", () => {
    const licensing = new Discovery('licensing.v1.json');
    const directory = new Discovery('admin.directory_v1.json');
    const list = licensing.match('GET', '/apps/licensing/v1/product/Google-Apps/sku/1010020028/users')!;
    expect(list.method.id).toBe('licensing.licenseAssignments.listForProductAndSku');
    expect(list.params).toEqual({ productId: 'Google-Apps', skuId: '1010020028' });
    const query = (q: string) => new URLSearchParams(q);
    expect(() => licensing.checkRequest(list.method, list.params, query('maxResults=10'), '')).toThrow(
      'missing query parameter customerId',
    );
    expect(() =>
      licensing.checkRequest(list.method, list.params, query('customerId=C1&maxResults=5000'), ''),
    ).toThrow('above 1000');
    expect(() => licensing.checkRequest(list.method, list.params, query('customerId=C1&page=2'), '')).toThrow(
      'unknown query parameter page',
    );
    const insert = licensing.match('POST', '/apps/licensing/v1/product/Google-Apps/sku/1010020028/user')!;
    expect(() => licensing.checkRequest(insert.method, insert.params, query(''), '{}')).toThrow(
      "must have required property 'userId'",
    );
    expect(() =>
      licensing.checkRequest(insert.method, insert.params, query(''), '{"userId":"a@acme.com","user":"x"}'),
    ).toThrow('must NOT have additional properties');
    const members = directory.match('GET', '/admin/directory/v1/groups/eng%40acme.com/members')!;
    expect(members.method.id).toBe('directory.members.list');
    expect(members.params.groupKey).toBe('eng@acme.com');
    expect(() =>
      directory.checkResponse(members.method, 200, { members: [{ email: 'a@acme.com', level: 1 }] }),
    ).toThrow('must NOT have additional properties');
    const remove = directory.match(
      'DELETE',
      '/admin/directory/v1/groups/eng%40acme.com/members/a%40acme.com',
    )!;
    expect(() => directory.checkResponse(remove.method, 200, {})).toThrow('answers 204 with no body');
    expect(() =>
      directory.checkResponse(remove.method, 404, {
        error: { code: 404, message: 'x', errors: [{ reason: 'notFound' }] },
      }),
    ).toThrow("must have required property 'message'");
    expect(directory.match('GET', '/admin/directory/v1/groups/eng%40acme.com/owners')).toBeUndefined();
  });
});
