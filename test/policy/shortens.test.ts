import { describe, expect, it } from 'vitest';
import { onlyShortens } from '../../src/policy/shortens.js';

const grant = { user: 'alice', app: 'db', permissions: ['readonly', 'writer'], end: '2027-06-01' };

describe('an edit that only takes access away', () => {
  const open = { user: 'alice', app: 'db', permissions: ['readonly', 'writer'] };
  it.each([
    ['an end moved earlier', grant, { ...grant, end: '2026-12-11' }, true],
    ['an end added where there was none', open, { ...open, end: '2026-12-11' }, true],
    ['a permission dropped', grant, { ...grant, permissions: ['readonly'] }, true],
    ['a reason changed', grant, { ...grant, reason: 'kept' }, true],
    ['an end moved later', grant, { ...grant, end: '2027-07-01' }, false],
    ['an end removed', grant, open, false],
    ['a permission added', grant, { ...grant, permissions: ['readonly', 'writer', 'admin'] }, false],
    ['a license changed', grant, { ...grant, license: 'gold' }, false],
    ['an end that is no date', grant, { ...grant, end: 'soon' }, false],
  ])('%s', (_, before, after, expected) => {
    expect(onlyShortens(before, after, undefined, 'UTC')).toBe(expected);
  });

  it('restoring the file as the protected branch has it is a revocation, whatever it was before', () => {
    const proposed = { ...grant, end: '2026-12-11' };
    expect(onlyShortens(proposed, grant, grant, 'UTC')).toBe(true);
    expect(onlyShortens(proposed, { ...grant, end: '2028-01-01' }, grant, 'UTC')).toBe(false);
  });
});
