import { describe, expect, it } from 'vitest';
import { batched, jsonChunks, LazyList } from '../../src/util/json-stream.js';

describe('JSON written in pieces', () => {
  it('is exactly what JSON.stringify(value, null, 2) gives, for plans and odd values alike', () => {
    const values: unknown[] = [
      {
        at: '2026-11-27T12:00:00.000Z',
        changes: [
          { action: 'grant', app: 'db', user: 'alice', entitlement: 'read', since: undefined },
          { action: 'revoke', app: 'db', user: 'b"ob\n', license: 'pro' },
        ],
        held: [],
        skipped: [{ app: 'x', reason: 'no credentials: \u2028', error: true }],
        drift: [],
        blocked: [],
        observed: {},
        nested: [[1, [2, []], {}], null, -0.5, 1e21, 'é'],
      },
      [],
      {},
      'text',
      42,
      null,
      [undefined, { a: undefined }],
    ];
    for (const value of values) {
      expect([...jsonChunks(value)].join('')).toBe(JSON.stringify(value, null, 2));
      expect([...batched(jsonChunks(value), 8)].join('')).toBe(`${JSON.stringify(value, null, 2)}\n`);
    }
  });

  it('writes a list made as it is read exactly as the array it makes, empty or not, and reads it once', () => {
    let reads = 0;
    const lazy = (n: number) =>
      new LazyList(function* () {
        reads++;
        for (let i = 0; i < n; i++) yield { i, nested: [i, { s: `x${i}` }], gone: undefined };
      });
    for (const n of [0, 1, 3]) {
      const array = [...lazy(n)];
      reads = 0;
      const value = { before: 1, rows: lazy(n), after: [] };
      expect([...jsonChunks(value)].join('')).toBe(JSON.stringify({ ...value, rows: array }, null, 2));
      expect(reads).toBe(1);
    }
  });
});
