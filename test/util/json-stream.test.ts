import { describe, expect, it } from 'vitest';
import { batched, jsonChunks } from '../../src/util/json-stream.js';

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
});
