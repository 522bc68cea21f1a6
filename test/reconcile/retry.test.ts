import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/connectors/types.js';
import { GaveUp, WaitBudget, withRetry } from '../../src/reconcile/retry.js';

/** A call failing with these errors in turn, then answering. */
function failing(...errors: Error[]) {
  let calls = 0;
  return {
    run: async () => {
      const e = errors[calls++];
      if (e) throw e;
      return 'done';
    },
    calls: () => calls,
  };
}

describe('the one retry layer', () => {
  it('waits what the service asks, says a wait of ten seconds or more, and otherwise backs off with jitter', async () => {
    const waits: number[] = [];
    const said: string[] = [];
    const call = failing(
      new TransientError('GitHub answered 429', 45_000),
      new TransientError('GitHub answered 502'),
      new TransientError('GitHub answered 502'),
    );
    const result = await withRetry(call.run, {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      onWait: (ms, e) => said.push(`${ms} ${e.message}`),
    });
    expect(result).toBe('done');
    // 45 s as asked, then half of 1 s and of 2 s: a 502 waits no rate limit's reset.
    expect(waits).toEqual([45_000, 500, 1_000]);
    expect(said).toEqual(['45000 GitHub answered 429']);
  });

  it('bounds what a run waits in all: a wait past the budget is not made, and the call says why', async () => {
    const budget = new WaitBudget(60_000);
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    await withRetry(failing(new TransientError('busy', 50_000)).run, { sleep, budget });
    const hour = failing(new TransientError('GitHub answered 403: rate limit, resets in an hour', 3_600_000));
    const error = await withRetry(hour.run, { sleep, budget }).catch((e) => e as GaveUp);
    expect(error).toBeInstanceOf(GaveUp);
    expect((error as GaveUp).message).toBe(
      'GitHub answered 403: rate limit, resets in an hour; waiting 1h more would pass the 1m a run may wait in all (50s waited already); the next run tries again',
    );
    expect(hour.calls()).toBe(1);
    expect(waits).toEqual([50_000]);
  });

  it('gives up after five attempts, and at once on an error that retrying will not fix', async () => {
    const sleep = async () => undefined;
    const transient = Array.from({ length: 5 }, () => new TransientError('timeout'));
    await expect(withRetry(failing(...transient).run, { sleep })).rejects.toThrow(
      'timeout (after 5 attempts)',
    );
    const terminal = failing(new Error('no such user'));
    await expect(withRetry(terminal.run, { sleep })).rejects.toThrow('no such user');
    expect(terminal.calls()).toBe(1);
  });
});
