import { describe, expect, it } from 'vitest';
import { formatAccess } from '../../src/report/access.js';
import { LazyList } from '../../src/util/json-stream.js';
import type { AccessRow } from '../../src/views/access.js';

/** A view of n rows, some scheduled, some with a licence and an emergency. */
function view(n: number) {
  const access: AccessRow[] = Array.from({ length: n }, (_, i) => ({
    user: `person-${i}`,
    name: `Person ${'x'.repeat(i % 7)}`,
    email: `p${i}@example.com`,
    app: `app-${i % 3}`,
    permissions: i % 2 ? ['read', 'write'] : ['read'],
    ...(i % 4 === 0 ? { license: 'pro' } : {}),
    ...(i % 5 === 0 ? { start: '2027-01-01T00:00:00.000Z' } : {}),
    status: i % 5 === 0 ? 'scheduled' : 'active',
    file: `grants/app-${i % 3}/person-${i}.yaml`,
    ...(i === 7 ? { privileged: true as const, emergency: { approveBy: '2026-12-01T00:00:00.000Z' } } : {}),
  }));
  return {
    at: '2026-11-27T12:00:00.000Z',
    access,
    seats: [{ app: 'app-0', tier: 'pro', seats: 10, used: 3, free: 7 }],
    skipped: [{ app: 'app-2', reason: 'no credentials' }],
  };
}

describe('the access view in pieces', () => {
  it('writes JSON as JSON.stringify does, in pieces of about 64 KB when the view is large', () => {
    const v = view(5_000);
    const pieces = [...formatAccess(v, 'json', 'UTC')];
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.every((p) => p.length < (1 << 16) + 4096)).toBe(true);
    expect(pieces.join('')).toBe(`${JSON.stringify(v, null, 2)}\n`);
  });

  it('aligns a text table over every row though no list of all rows is kept, and keeps CSV and Markdown whole', () => {
    const v = view(3_000);
    const text = [...formatAccess(v, 'text', 'UTC', Number.POSITIVE_INFINITY)].join('');
    const lines = text.split('\n');
    // The widest cells: person-2999, 'Person xxxxxx', 'read, (pro)', the emergency's status, a date.
    expect(lines[0]).toBe(
      `user         name           app    access       status${' '.repeat(49)}start       end`,
    );
    // Every row's columns start where the header's do: widths taken over all 3,000 rows.
    const at = ['name', 'app', 'access', 'status'].map((h) => lines[0]!.indexOf(h));
    for (const line of lines.slice(1, 3_001)) for (const col of at) expect(line[col - 1]).toBe(' ');
    expect(lines[8]).toContain('active, privileged, EMERGENCY (approve by 2026-12-01)');
    expect(lines.slice(3_001)).toEqual([
      '',
      'app    tier  seats  used  free  next free',
      'app-0  pro   10     3     7     ',
      'not observed: app-2: no credentials',
      '',
    ]);
    const csv = [...formatAccess(v, 'csv', 'UTC')].join('').split('\n');
    expect(csv).toHaveLength(3_002);
    expect(csv[1]).toBe('"person-0","Person ","app-0","read, (pro)","scheduled","2027-01-01",""');
    const md = [...formatAccess(v, 'markdown', 'UTC')].join('').split('\n');
    expect(md.slice(0, 2)).toEqual([
      '| user | name | app | access | status | start | end |',
      '|---|---|---|---|---|---|---|',
    ]);
    expect(md[3_002]).toBe('');
    expect(md[3_003]).toBe('| app | tier | seats | used | free | next free |');
  });

  it('gives the same text, CSV, Markdown and JSON when the rows are made as they are read', () => {
    const v = view(2_000);
    const lazy = { ...v, access: new LazyList(() => v.access.map((r) => ({ ...r }))) };
    for (const format of ['text', 'csv', 'markdown', 'json'] as const)
      expect([...formatAccess(lazy, format, 'UTC')].join('')).toBe(
        [...formatAccess(v, format, 'UTC')].join(''),
      );
  });
});
