import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { Discovery, toJsonSchema } from '../helpers/google-discovery.js';
import {
  accessRepo,
  apply,
  appYaml,
  brief,
  FAST,
  google,
  NOW,
  newRepo,
  plan,
  SERVICE_ACCOUNT,
  STARTER,
} from '../helpers/google-setup.js';

describe('google-workspace connector at scale and under faults', () => {
  it('reads a group of 2,000 members page by page, adds to it in one batch, and stops a mass removal', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      const ids = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
      for (const id of ids) w.addUser(`${id}@acme.com`);
      for (const id of ids.slice(0, 1990)) w.setMember('eng-oncall@acme.com', `${id}@acme.com`);
      const dir = newRepo(
        {
          'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@acme.com }\n`).join('')}`,
          'grants/gws/_app.yaml': appYaml(server).replace(/licenses:[\s\S]*$/, ''),
          ...Object.fromEntries(
            ids.map((id) => [`grants/gws/${id}.yaml`, `user: ${id}\napp: gws\npermissions: [eng-oncall]\n`]),
          ),
        },
        '2,000 people on call',
      );
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
      // Fifteen on Starter: the tier has fifteen seats, and Google fifteen licences.
      server.workspace.skus.get(`Google-Apps/${STARTER}`)!.bought = 15;
      const dir = newRepo(
        {
          'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@acme.com }\n`).join('')}`,
          'grants/gws/_app.yaml': appYaml(server).replace(
            'seats: 5, productId: Google-Apps, skuId: "1010020027"',
            'seats: 15, productId: Google-Apps, skuId: "1010020027"',
          ),
          ...Object.fromEntries(
            ids.map((id) => [
              `grants/gws/${id}.yaml`,
              `user: ${id}\napp: gws\npermissions: [design]\nlicense: starter\n`,
            ]),
          ),
        },
        'fifteen people',
      );
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
