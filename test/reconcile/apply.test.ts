import { describe, expect, it } from 'vitest';
import { AppStoppedError, type Change, type Session, type StepResult } from '../../src/connectors/types.js';
import { applyChanges, type ChangeResult } from '../../src/reconcile/apply.js';

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
