import { describe, expect, it } from 'vitest';
import { validateJson } from '../helpers/cli.js';
import { repoWith } from '../helpers/repo.js';
import { cases } from './malformed-cases.js';

describe('malformed access repositories', () => {
  it('has at least 30 of them', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('rejects $name', async ({ changes, setup, expected }) => {
    const dir = repoWith(changes);
    setup?.(dir);
    const { code, json } = await validateJson(dir);
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    const match = json.diagnostics.find((d) => d.code === expected.code && d.file === expected.file);
    expect(match, JSON.stringify(json.diagnostics, null, 1)).toBeDefined();
    expect({ line: match?.line, column: match?.column }).toEqual({
      line: expected.line,
      column: expected.column,
    });
    expect(match?.severity).toBe('error');
    if (expected.message) expect(match?.message).toMatch(expected.message);
  });

  it('accepts the base repository unchanged', async () => {
    const { code, json } = await validateJson(repoWith({}));
    expect(json.diagnostics).toEqual([]);
    expect(code).toBe(0);
  });
});
