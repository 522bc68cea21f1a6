import { describe, expect, it } from 'vitest';
import {
  AppStoppedError,
  type Change,
  type Session,
  type Step,
  type StepResult,
} from '../../src/connectors/types.js';
import { applyChanges, type ChangeResult } from '../../src/reconcile/apply.js';
import { groupBy } from '../../src/util/group-by.js';

const change = (app: string, user: string, action: 'grant' | 'revoke' = 'grant'): Change => ({
  action,
  app,
  user,
  account: user,
  entitlement: 'readonly',
  reason: action === 'grant' ? 'new-grant' : 'removed',
});

/** A session whose steps are one per change, each answered by `answer` (a scripted app). */
function session(answer: (step: Change[], index: number) => Promise<StepResult[]>, batch = 1): Session {
  let index = 0;
  return {
    concurrency: 1,
    observe: async () => [],
    close: async () => undefined,
    steps: (changes) => {
      const steps = [];
      for (let i = 0; i < changes.length; i += batch) {
        const mine = changes.slice(i, i + batch);
        steps.push({ changes: mine, run: () => answer(mine, index++) });
      }
      return steps;
    },
  };
}

const ok = (c: Change): StepResult => ({ change: c, outcome: 'granted' });

describe('apply matches each outcome to its change', () => {
  it('whatever order a step answers in', async () => {
    const changes = ['a', 'b', 'c'].map((u) => change('x', u));
    const reversed = session(
      async (step) =>
        [...step].reverse().map((c) => ({
          change: c,
          outcome: c.user === 'b' ? 'failed' : 'granted',
          ...(c.user === 'b' ? { error: 'b refused' } : {}),
        })),
      3,
    );
    const results = await applyChanges(changes, new Map([['x', reversed]]));
    expect(results.map((r) => `${r.user} ${r.outcome} ${r.error ?? ''}`.trim())).toEqual([
      'a granted',
      'b failed b refused',
      'c granted',
    ]);
  });

  it('fails a change that got no outcome, several, or when the step names a change it was not given', async () => {
    const changes = ['a', 'b'].map((u) => change('x', u));
    const stranger = change('x', 'mallory');
    const missing = session(async (step) => [ok(step[0]!)], 2);
    expect((await applyChanges(changes, new Map([['x', missing]]))).map((r) => r.error ?? r.outcome)).toEqual(
      ['granted', 'the connector returned no outcome for it'],
    );
    const twice = session(async (step) => [ok(step[0]!), ok(step[0]!), ok(step[1]!)], 2);
    expect((await applyChanges(changes, new Map([['x', twice]])))[0]!.error).toBe(
      'the connector returned several outcomes for it',
    );
    const foreign = session(async (step) => [...step.map(ok), ok(stranger)], 2);
    expect((await applyChanges(changes, new Map([['x', foreign]]))).map((r) => r.outcome)).toEqual([
      'failed',
      'failed',
    ]);
  });
});

describe('a run that cannot go on', () => {
  it('stops an app whose database stopped, untried, while other apps go ahead', async () => {
    const changes = [...['a', 'b', 'c'].map((u) => change('x', u)), ...['d', 'e'].map((u) => change('y', u))];
    const stops = session(async (step, i) => {
      if (i === 1) throw new AppStoppedError('the embedded database stopped answering');
      return step.map(ok);
    });
    const fine = session(async (step) => step.map(ok));
    const results = await applyChanges(
      changes,
      new Map([
        ['x', stops],
        ['y', fine],
      ]),
    );
    expect(results.map((r) => `${r.user} ${r.outcome} ${r.error ?? ''}`.trim())).toEqual([
      'a granted',
      'b failed the embedded database stopped answering',
      'c failed not tried: the embedded database stopped answering',
      'd granted',
      'e granted',
    ]);
  });

  it('stops everything when the record cannot be written, having handed over what it did', async () => {
    const changes = ['a', 'b', 'c'].map((u) => change('x', u));
    const recorded: ChangeResult[] = [];
    let tried = 0;
    const counting = session(async (step) => {
      tried++;
      return step.map(ok);
    });
    const run = applyChanges(changes, new Map([['x', counting]]), {
      onResults: (batch) => {
        if (recorded.length > 0) throw new Error('ENOSPC: no space left on device');
        recorded.push(...batch);
      },
    });
    await expect(run).rejects.toThrow('ENOSPC');
    expect(recorded.map((r) => r.user)).toEqual(['a']);
    expect(tried).toBe(2);
  });
});

describe('a session that writes grants and removals together (grantsWithRemovals)', () => {
  /** One step per entitlement with its adds and removals; `refuse` fails a change; the steps run in `order`. */
  function together(refuse: (c: Change) => boolean, order: string[]): Session {
    const step = (changes: Change[]): Step => ({
      changes,
      run: async () => {
        order.push(changes.map((c) => `${c.action} ${c.user} ${c.entitlement}`).join(', '));
        return changes.map((c) => ({
          change: c,
          outcome: refuse(c) ? 'failed' : c.action === 'grant' ? 'granted' : 'revoked',
        }));
      },
      without: (removals) => step(changes.filter((c) => !removals.includes(c))),
    });
    return {
      concurrency: 1,
      grantsWithRemovals: true,
      observe: async () => [],
      close: async () => undefined,
      steps: (changes) => [...groupBy(changes, (c) => c.entitlement!).values()].map(step),
    };
  }
  const at = (action: 'grant' | 'revoke', user: string, entitlement: string): Change => ({
    ...change('x', user, action),
    entitlement,
  });

  it('gets them in one call, runs a grant before the same person’s removal, and keeps what a failed grant would take', async () => {
    // bob moves from a to b, carol from b to a; dan's grant to b fails, so his removal from a is held back.
    const changes = [
      at('revoke', 'bob', 'a'),
      at('grant', 'carol', 'a'),
      at('revoke', 'dan', 'a'),
      at('grant', 'bob', 'b'),
      at('revoke', 'carol', 'b'),
      at('grant', 'dan', 'b'),
    ];
    const order: string[] = [];
    const results = await applyChanges(
      changes,
      new Map([['x', together((c) => c.user === 'dan' && c.action === 'grant', order)]]),
    );
    // a and b cross (bob, carol); b goes first, as it removes one person whose grant is still to run, a two.
    expect(order).toEqual(['grant bob b, revoke carol b, grant dan b', 'revoke bob a, grant carol a']);
    expect(
      results.map((r) => `${r.action} ${r.user} ${r.entitlement} ${r.outcome} ${r.error ?? ''}`.trim()),
    ).toEqual([
      'revoke bob a revoked',
      'grant carol a granted',
      'revoke dan a failed not removed: a grant to dan in x failed in this run, so their access is kept as it was',
      'grant bob b granted',
      'revoke carol b revoked',
      'grant dan b failed',
    ]);
  });
});
