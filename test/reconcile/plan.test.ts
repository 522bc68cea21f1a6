import { describe, expect, it } from 'vitest';
import type { Held } from '../../src/connectors/types.js';
import { parseTime } from '../../src/model/time.js';
import { desired, type GrantSpec } from '../../src/reconcile/desired.js';
import { type AppInput, makePlan, type PlanInput } from '../../src/reconcile/plan.js';

const T = (iso: string) => Date.parse(iso);
const berlin = (date: string) => {
  const parsed = parseTime(date, 'Europe/Berlin');
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.at;
};

function grant(
  user: string,
  permissions: string[],
  window: Partial<GrantSpec['window']> = {},
  license?: string,
): GrantSpec {
  return {
    file: `grants/db/${user}.yaml`,
    app: 'db',
    user,
    account: user,
    permissions,
    license,
    window: { start: window.start, end: window.end },
  };
}

function app(overrides: Partial<AppInput>): AppInput {
  return {
    id: 'db',
    prune: false,
    caseInsensitiveAccounts: false,
    observed: [],
    grants: [],
    held: [],
    people: new Map([
      ['alice', 'alice'],
      ['bob', 'bob'],
      ['carol', 'carol'],
    ]),
    removedFromGit: new Set(),
    ...overrides,
  };
}

function plan(apps: AppInput[], at: number, extra: Partial<PlanInput> = {}) {
  return makePlan({
    at,
    apps,
    limits: { maxRemovals: 50, maxRemovalShare: 0.5 },
    allowMassRemoval: false,
    ...extra,
  });
}

const brief = (p: ReturnType<typeof plan>) =>
  p.changes.map(
    (c) =>
      `${c.action} ${c.user} ${c.entitlement ?? `license:${c.license}`} ${c.reason}${c.since ? ` ${c.since}` : ''}`,
  );

describe('desired', () => {
  const g = grant(
    'alice',
    ['readonly'],
    { start: T('2026-12-01T00:00:00Z'), end: T('2027-01-01T00:00:00Z') },
    'seat',
  );

  it('includes a grant exactly at its start and excludes it exactly at its end', () => {
    expect(desired([g], T('2026-11-30T23:59:59.999Z'))).toEqual([]);
    expect(desired([g], T('2026-12-01T00:00:00Z'))).toEqual([
      { app: 'db', user: 'alice', account: 'alice', entitlement: 'readonly' },
      { app: 'db', user: 'alice', account: 'alice', license: 'seat' },
    ]);
    expect(desired([g], T('2026-12-31T23:59:59.999Z'))).toHaveLength(2);
    expect(desired([g], T('2027-01-01T00:00:00Z'))).toEqual([]);
  });

  it('treats a grant without start as active now', () => {
    expect(desired([grant('bob', ['readonly'])], 0)).toHaveLength(1);
  });

  it('starts a bare-date grant at local midnight on a daylight-saving day', () => {
    // Europe/Berlin moves its clocks at 02:00 on 2026-03-29; local midnight is still 23:00 UTC the day before.
    const start = berlin('2026-03-29');
    const end = berlin('2026-10-25');
    const g2 = grant('bob', ['readonly'], { start, end });
    expect(start).toBe(T('2026-03-28T23:00:00Z'));
    expect(end).toBe(T('2026-10-24T22:00:00Z'));
    expect(desired([g2], T('2026-03-28T22:59:59Z'))).toEqual([]);
    expect(desired([g2], T('2026-03-28T23:00:00Z'))).toHaveLength(1);
    expect(desired([g2], T('2026-10-24T22:00:00Z'))).toEqual([]);
  });
});

describe('makePlan reasons', () => {
  const now = T('2026-12-15T00:00:00Z');

  it('new-grant for a grant with no start; nothing when the app already holds it', () => {
    expect(brief(plan([app({ grants: [grant('alice', ['readonly'])] })], now))).toEqual([
      'grant alice readonly new-grant',
    ]);
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly' }];
    expect(plan([app({ grants: [grant('alice', ['readonly'])], observed })], now).changes).toEqual([]);
  });

  it('start-reached for a grant whose start has come, with the instant', () => {
    const g = grant('alice', ['readonly'], { start: T('2026-12-01T00:00:00Z') });
    expect(brief(plan([app({ grants: [g] })], now))).toEqual([
      'grant alice readonly start-reached 2026-12-01T00:00:00.000Z',
    ]);
  });

  it('expired for access whose end has arrived, exactly at the end', () => {
    const end = T('2026-12-15T00:00:00Z');
    const g = grant('alice', ['readonly'], { end }, 'seat');
    const observed: Held[] = [
      { account: 'alice', entitlement: 'readonly' },
      { account: 'alice', license: 'seat' },
    ];
    expect(plan([app({ grants: [g], observed })], end - 1).changes).toEqual([]);
    expect(brief(plan([app({ grants: [g], observed })], end))).toEqual([
      'revoke alice readonly expired 2026-12-15T00:00:00.000Z',
      'revoke alice license:seat expired 2026-12-15T00:00:00.000Z',
    ]);
  });

  it('changed only for what the grant file changed: added to or taken from its earlier version', () => {
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly' }];
    const history = new Map([
      ['alice', { previous: new Set(['e:readonly']), ever: new Set(['e:readonly']) }],
    ]);
    expect(brief(plan([app({ grants: [grant('alice', ['writer'])], observed, history })], now))).toEqual([
      'revoke alice readonly changed',
      'grant alice writer changed',
    ]);
  });

  it('drift for access no version of the grant ever gave, kept unless the app prunes; new-grant for a new file', () => {
    // alice's grant file is new and says writer; she already holds readonly, added by hand.
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly' }];
    const p = plan([app({ grants: [grant('alice', ['writer'])], observed })], now);
    expect(brief(p)).toEqual(['grant alice writer new-grant']);
    expect(p.drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual(['alice readonly drift']);
    const pruned = plan([app({ grants: [grant('alice', ['writer'])], observed, prune: true })], now);
    expect(brief(pruned)).toEqual(['revoke alice readonly drift', 'grant alice writer new-grant']);
  });

  it('lets back in, as login-disabled, an account that holds its access but cannot use it', () => {
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly', disabled: true }];
    expect(brief(plan([app({ grants: [grant('alice', ['readonly'])], observed })], now))).toEqual([
      'grant alice readonly login-disabled',
    ]);
  });

  it('completes access held in part where a grant gives it, and takes it as drift where none does', () => {
    const observed: Held[] = [
      { account: 'alice', entitlement: 'readonly', incomplete: 'not in 222222222222' },
      { account: 'mallory', entitlement: 'readonly', incomplete: 'not in 222222222222' },
    ];
    const p = plan([app({ grants: [grant('alice', ['readonly'])], observed, prune: true })], now);
    expect(brief(p)).toEqual(['grant alice readonly incomplete', 'revoke mallory readonly drift']);
  });

  it('removed when the grant file was deleted in git, drift when no grant ever gave it', () => {
    const observed: Held[] = [
      { account: 'alice', entitlement: 'readonly' },
      { account: 'mallory', entitlement: 'readonly' },
    ];
    const p = plan([app({ observed, removedFromGit: new Set(['alice']) })], now);
    expect(brief(p)).toEqual(['revoke alice readonly removed']);
    expect(p.drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual(['mallory readonly drift']);
  });

  it('removes drift only where the app prunes', () => {
    const observed: Held[] = [{ account: 'mallory', entitlement: 'readonly' }];
    expect(brief(plan([app({ observed, prune: true })], now))).toEqual(['revoke mallory readonly drift']);
  });

  it('treats a pending assignment as present, not missing', () => {
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly', pending: true }];
    expect(plan([app({ grants: [grant('alice', ['readonly'])], observed })], now).changes).toEqual([]);
  });

  it('compares accounts without case where the app does', () => {
    const observed: Held[] = [{ account: 'ALICE', entitlement: 'readonly' }];
    const g = grant('alice', ['readonly']);
    expect(plan([app({ grants: [g], observed, caseInsensitiveAccounts: true })], now).changes).toEqual([]);
    expect(brief(plan([app({ grants: [g], observed, caseInsensitiveAccounts: false })], now))).toEqual([
      'grant alice readonly new-grant',
    ]);
  });

  it('holds a person whose grant file does not validate: nothing added, nothing removed', () => {
    const observed: Held[] = [{ account: 'alice', entitlement: 'readonly' }];
    const p = plan(
      [app({ observed, held: [{ user: 'alice', file: 'grants/db/alice.yaml', reason: 'broken' }] })],
      now,
    );
    expect(p.changes).toEqual([]);
    expect(p.drift).toEqual([]);
    expect(p.held).toEqual([{ app: 'db', user: 'alice', file: 'grants/db/alice.yaml', reason: 'broken' }]);
  });

  it('skips an app that was not observed and never reads it as empty', () => {
    const p = plan(
      [
        app({
          observed: undefined,
          skip: { reason: 'cannot observe: down', error: true },
          grants: [grant('alice', ['x'])],
        }),
      ],
      now,
    );
    expect(p.changes).toEqual([]);
    expect(p.skipped).toEqual([{ app: 'db', reason: 'cannot observe: down', error: true }]);
    expect(p.observed).toEqual({});
  });
});

describe('makePlan safety gates', () => {
  const now = T('2026-12-15T00:00:00Z');
  const many = (n: number): Held[] =>
    Array.from({ length: n }, (_, i) => ({ account: `u${i}`, entitlement: 'readonly' }));
  const removedAll = (n: number) => new Set(Array.from({ length: n }, (_, i) => `u${i}`));

  it('blocks more removals than maxRemovals, and allows them with allowMassRemoval', () => {
    const apps = [app({ observed: many(6), removedFromGit: removedAll(6) })];
    const limits = { maxRemovals: 5, maxRemovalShare: 1 };
    expect(plan(apps, now, { limits }).blocked).toEqual([
      'the plan removes 6 assignments, more than limits.maxRemovals (5)',
    ]);
    expect(plan(apps, now, { limits: { maxRemovals: 6, maxRemovalShare: 1 } }).blocked).toEqual([]);
    expect(plan(apps, now, { limits, allowMassRemoval: true }).blocked).toEqual([]);
  });

  it("blocks removing more than maxRemovalShare of an app's managed assignments", () => {
    const removed = new Set(['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    const p = plan([app({ observed: many(10), removedFromGit: removed })], now);
    expect(p.blocked).toEqual([
      "the plan removes 6 of db's 10 managed assignments (60%), more than limits.maxRemovalShare (50%)",
    ]);
    const five = plan(
      [app({ observed: many(10), removedFromGit: new Set(['u0', 'u1', 'u2', 'u3', 'u4']) })],
      now,
    );
    expect(five.blocked).toEqual([]);
  });

  it('leaves the share gate to maxRemovals for apps under ten assignments', () => {
    expect(plan([app({ observed: many(2), removedFromGit: removedAll(2) })], now).blocked).toEqual([]);
  });

  it('counts pruned drift as removals', () => {
    const p = plan([app({ observed: many(3), prune: true })], now, {
      limits: { maxRemovals: 2, maxRemovalShare: 1 },
    });
    expect(p.blocked).toHaveLength(1);
  });
});

describe('access iden does not manage', () => {
  it('satisfies a grant, is never removed and is not drift, even with prune', () => {
    const external: Held[] = [
      { account: 'alice', entitlement: 'readonly', external: 'group rule "engineers"' },
      { account: 'bob', entitlement: 'readonly', external: 'group rule "engineers"' },
      { account: 'carol', entitlement: 'readonly' },
    ];
    const p = plan(
      [app({ prune: true, observed: external, grants: [grant('alice', ['readonly'])] })],
      T('2026-11-27T12:00:00Z'),
    );
    // alice's grant is held through the rule; bob's rule-fed access is left alone; carol's is drift, pruned.
    expect(brief(p)).toEqual(['revoke carol readonly drift']);
    expect(p.drift.map((d) => d.user)).toEqual(['carol']);
  });
});
