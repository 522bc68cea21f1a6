import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fullCollection } from '../../src/util/heap.js';

describe('a full collection on demand', () => {
  it('collects what nothing holds, and adds nothing to the global object or to later contexts', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) });
    })();
    // A WeakRef's target lives to the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    const collect = fullCollection();
    expect(collect).toBeTypeOf('function');
    collect!();
    expect(ref!.deref()).toBeUndefined();
    expect(fullCollection()).toBe(collect);
    expect('gc' in globalThis).toBe(false);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
