import type { RuleVerdict } from '../policy/classify.js';

/**
 * What a grant file still needs under its rules, in words for the grant
 * flow's summary and the pull request it opens: how many approvals, under
 * which rule, and from whom ("needs 2 approvals under the payments owners,
 * from frank and carol"). Undefined when every rule is met.
 */
export function approvalsNeeded(rules: readonly RuleVerdict[] | undefined): string | undefined {
  const unmet = (rules ?? []).filter((r) => !r.met);
  if (unmet.length === 0) return undefined;
  const parts = unmet.map((r, i) => {
    const missing = Math.max(1, r.needed - r.counted.length);
    const from = r.from ?? [];
    const who =
      from.length === 0
        ? 'and no one left who may give it'
        : missing >= from.length
          ? `from ${andList(from, 'and')}`
          : missing === 1
            ? `from ${andList(from, 'or')}`
            : `from ${missing} of ${from.join(', ')}`;
    const count = `${missing}${i === 0 ? ` approval${missing === 1 ? '' : 's'}` : ''}`;
    return `${count} under ${r.rule}, ${who}`;
  });
  return `needs ${parts.join('; ')}`;
}

function andList(items: readonly string[], word: 'and' | 'or'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}
