import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clientAssertion, signingKey } from '../../src/connectors/okta/auth.js';
import { links } from '../../src/connectors/okta/client.js';
import { oktaError, translate } from '../../src/connectors/okta/errors.js';
import { bucketOf, RateLimits, waitFor } from '../../src/connectors/okta/pace.js';
import { AppStoppedError, TerminalError, TransientError } from '../../src/connectors/types.js';
import type { Plan } from '../../src/reconcile/plan.js';
import { TEST_NOW } from '../helpers/cli.js';
import { apply, brief, cli, crowd, NOW, plan, TOKEN, writes } from '../helpers/okta-org.js';
import { RunningClock } from '../helpers/running-clock.js';

describe('okta connector: rate limits, outages and refusals', () => {
  it('waits out a rate-limited minute and a 429, stays within its share of the bucket, and converges', async () => {
    const o = await crowd(120);
    const { server, clock } = o;
    try {
      // The org's /api/v1/groups bucket allows 100 a minute here: iden's share is 50.
      server.limits['/api/v1/groups'] = 100;
      // Other clients have spent 60 of this minute; and one write is refused with a 429 later on.
      server.others('/api/v1/groups', 60);
      server.inject('429', 1, /^PUT .*\/users\/00u0000000060test$/);
      const start = clock.now();
      const run = await apply(o, o.dir);
      expect(run.stdout).toContain('Applied: 120 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(run.code).toBe(0);
      expect(o.group.members).toHaveLength(120);
      // No request in a refused minute before its reset (checked by the server), and never more than iden's share.
      expect(server.errors).toEqual([]);
      const minutes = server.windows.filter((w) => w.bucket === '/api/v1/groups');
      expect(Math.max(...minutes.map((w) => w.iden))).toBeLessThanOrEqual(50);
      expect(minutes.every((w) => w.iden + w.others <= 100 || w.iden === 0)).toBe(true);
      // 120 writes at 50 a minute (2.4 minutes), plus at most the rest of the minute others spent,
      // the rest of the minute refused with a 429, and the 429's own Retry-After, which the retry
      // layer waits on the same clock: computed on the clock, never slept.
      const minutesTaken = (clock.now() - start) / 60_000;
      expect(minutesTaken).toBeGreaterThan(2.4);
      expect(minutesTaken).toBeLessThanOrEqual(5.5);
      expect(run.stderr).toMatch(
        /notice: okta: Okta allows 100 requests a minute to \/api\/v1\/groups \(\d+ of this minute's 100 are left, and iden leaves 50 to the org's other clients\): waiting \d+s; \d+ writes left/,
      );
      // One PUT per membership, and the one refused sent again.
      expect(writes(server)).toHaveLength(121);
    } finally {
      await server.stop();
    }
  });

  it('retries a burst of server errors, a dropped connection and an unanswered request; each change written once', async () => {
    const o = await crowd(6);
    const { server } = o;
    try {
      server.inject('hang', 1, /^GET .*\/users$/);
      server.inject('5xx', 3, /^PUT/);
      server.inject('reset', 1, /^PUT/);
      const run = await apply(o, o.dir);
      expect(run.stdout).toContain('Applied: 6 granted, 0 revoked, 0 unchanged, 0 failed.');
      // Six memberships, four refused or dropped and sent again; the member list read again after the unanswered page.
      expect(writes(server)).toHaveLength(10);
      expect(server.requests.filter((r) => r.endsWith(`${o.group.id}/users`))).toHaveLength(2);
      expect(brief(await plan(o, o.dir))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('skips the app when the token is refused, stops its changes when refused mid-run, and never prints the token', async () => {
    const o = await crowd(4);
    const { server } = o;
    try {
      server.refuseToken();
      const p = await cli(o, ['plan', '--repo', o.dir, '--format', 'json', '--at', NOW]);
      const skipped = (JSON.parse(p.stdout) as Plan).skipped;
      expect(skipped[0]!.reason).toBe(
        'cannot observe: reading Okta org ' +
          `${new URL(server.url).host}: Okta answered 401 E0000011 Invalid token provided to GET /api/v1/groups: Okta refused the credentials; check that OKTA_API_TOKEN holds a current API token (Okta revokes tokens unused for 30 days, and with their admin)`,
      );
      server.refused = false;
      server.inject('401', 1, /^PUT/);
      const run = await apply(o, o.dir);
      expect(run.code).toBe(1);
      // The first write is refused; the rest are not sent with credentials Okta refused.
      expect(run.stdout).toContain('Applied: 0 granted, 0 revoked, 0 unchanged, 4 failed.');
      expect(run.stdout.match(/Okta refused the credentials/g)).toHaveLength(4);
      expect(writes(server)).toHaveLength(1);
      for (const text of [p.stdout, p.stderr, run.stdout, run.stderr]) expect(text).not.toContain(TOKEN);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('okta pacing, errors and signing, as units', () => {
  it('counts each request in the bucket Okta counts it in', () => {
    const cases: [string, string, string][] = [
      ['GET', '/api/v1/groups', '/api/v1/groups'],
      ['GET', '/api/v1/groups/00g1', '/api/v1/groups/{id}'],
      ['GET', '/api/v1/groups/rules', '/api/v1/groups'],
      ['GET', '/api/v1/groups/00g1/users', '/api/v1/groups'],
      ['PUT', '/api/v1/groups/00g1/users/00u1', '/api/v1/groups'],
      ['GET', '/api/v1/apps', '/api/v1/apps'],
      ['GET', '/api/v1/apps/0oa1', '/api/v1/apps/{id}'],
      ['POST', '/api/v1/apps/0oa1/users', '/api/v1/apps'],
      ['DELETE', '/api/v1/apps/0oa1/users/00u1', '/api/v1/apps'],
      ['GET', '/api/v1/users', '/api/v1/users'],
      ['GET', '/api/v1/users/a%40example.com', '/api/v1/users/{idOrLogin}'],
      ['POST', '/api/v1/users/00u1/roles', '/api/v1/users'],
      ['GET', '/api/v1/iam/assignees/users', '/api/v1/iam'],
    ];
    expect(cases.map(([m, p]) => bucketOf(m, p))).toEqual(cases.map(([, , b]) => b));
  });

  it('spreads writes over the minute within its share, and waits for the reset when the rest is the others’', async () => {
    const clock = new RunningClock(TEST_NOW);
    const notices: string[] = [];
    const rates = new RateLimits(0.5, clock, (t) => notices.push(t));
    // 1,000 writes in /api/v1/groups (500 a minute, iden's half 250): one every 240 ms, four minutes.
    for (let i = 0; i < 1000; i++) (await rates.acquire('/api/v1/groups', true))();
    expect(clock.slept).toBe(999 * 240);
    // Reads take their turn without spacing, until only the others' part of the window is left.
    const start = clock.now();
    // Okta's clock (its Date header) says the window resets in 30 s, whatever ours reads.
    const reset = 2_000_000_030;
    rates.record('/api/v1/users', { limit: 600, remaining: 301, reset, date: 2_000_000_000_000 });
    (await rates.acquire('/api/v1/users', false))();
    expect(clock.now()).toBe(start);
    (await rates.acquire('/api/v1/users', false))();
    expect(clock.now()).toBe(start + 30_000);
    expect(notices).toEqual([
      "Okta allows 600 requests a minute to /api/v1/users (300 of this minute's 600 are left, and iden leaves 300 to the org's other clients): waiting 30s",
    ]);
    // A 429 stops the bucket until its reset, measured on Okta's clock (its Date header), not ours.
    const wait = rates.refused('/api/v1/apps', {
      limit: 100,
      remaining: 0,
      reset: 2_000_000_030,
      date: 2_000_000_000_000,
    });
    expect(wait).toBe(30_000);
    expect(waitFor(rates.window('/api/v1/apps'), clock.now(), 0.5, false)).toEqual({
      ms: 30_000,
      why: 'window',
    });
  });

  it('reads Link headers, and turns Okta’s answers into the contract’s errors with what fixes them', () => {
    expect(
      links(
        '<https://acme.okta.com/api/v1/users?limit=2>; rel="self", <https://acme.okta.com/api/v1/users?after=x&limit=2>; rel="next"',
      ).get('next'),
    ).toBe('https://acme.okta.com/api/v1/users?after=x&limit=2');
    const hint = { refused: 'check the token', forbidden: 'the token’s admin needs a role' };
    const limited = translate(
      oktaError(
        429,
        'PUT /x',
        '{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit"}',
        12_000,
      ),
      'adding a',
      hint,
    );
    expect(limited).toBeInstanceOf(TransientError);
    expect((limited as TransientError).retryAfterMs).toBe(12_000);
    expect(
      translate(
        oktaError(503, 'GET /x', '<html><h1>503 Service Unavailable</h1></html>', undefined),
        'w',
        hint,
      ).message,
    ).toBe('w: Okta answered 503 503 Service Unavailable to GET /x');
    expect(
      translate(
        oktaError(
          401,
          'GET /x',
          '{"errorCode":"E0000011","errorSummary":"Invalid token provided"}',
          undefined,
        ),
        'w',
        hint,
      ),
    ).toBeInstanceOf(AppStoppedError);
    const forbidden = translate(
      oktaError(
        403,
        'PUT /x',
        '{"errorCode":"E0000006","errorSummary":"You do not have permission"}',
        undefined,
      ),
      'w',
      hint,
    );
    expect(forbidden).toBeInstanceOf(TerminalError);
    expect(forbidden.message).toBe(
      'w: Okta answered 403 E0000006 You do not have permission to PUT /x: the token’s admin needs a role',
    );
  });

  it('signs client assertions Okta can verify, with RSA and EC keys', () => {
    for (const [type, alg] of [
      ['rsa', 'RS256'],
      ['ec', 'ES256'],
    ] as const) {
      const pair =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const key = signingKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'K');
      expect(key.alg).toBe(alg);
      const jwt = clientAssertion(
        '0oa1',
        'https://acme.okta.com/oauth2/v1/token',
        { ...key, kid: 'k1' },
        TEST_NOW,
      );
      const [h = '', c = '', s = ''] = jwt.split('.');
      const ok = verify(
        'sha256',
        Buffer.from(`${h}.${c}`),
        { key: pair.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      );
      expect(ok).toBe(true);
      expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg, typ: 'JWT', kid: 'k1' });
      expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toMatchObject({
        iss: '0oa1',
        sub: '0oa1',
        aud: 'https://acme.okta.com/oauth2/v1/token',
        exp: TEST_NOW / 1000 + 300,
      });
    }
  });
});
