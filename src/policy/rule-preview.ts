import type { Diagnostic } from '../model/diagnostics.js';

/** What a change of access rules or conflicts would newly break among the grants already there. */
export interface RulePreview {
  /** "14 grants exceed a new maximum duration; 2 conflicts". */
  summary: string;
  /** Each breach, errors (in force now) and warnings (from the rule's effective date). */
  grants: Diagnostic[];
}

const RULE_CODES = new Set(['rule-max-duration', 'rule-not-eligible', 'rule-emergency', 'conflict']);

/**
 * The rule findings on grants the pull request does not touch that the
 * protected branch does not have already: the grants in force a tightened
 * cap, a narrower eligibility or a new conflict would break. Undefined when
 * there are none.
 */
export function rulePreview(
  after: readonly Diagnostic[],
  before: ReadonlySet<string>,
  touched: ReadonlySet<string>,
): RulePreview | undefined {
  const grants = after.filter(
    (d) =>
      RULE_CODES.has(d.code) &&
      d.file.endsWith('.yaml') &&
      !d.file.split('/').pop()!.startsWith('_') &&
      !touched.has(d.file) &&
      !before.has(`${d.file}\u0000${d.code}\u0000${d.message}`),
  );
  if (grants.length === 0) return undefined;
  const count = (code: string) => new Set(grants.filter((d) => d.code === code).map((d) => d.file)).size;
  const parts: string[] = [];
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const long = count('rule-max-duration');
  if (long > 0) parts.push(`${plural(long, 'grant exceeds', 'grants exceed')} a new maximum duration`);
  const ineligible = count('rule-not-eligible');
  if (ineligible > 0)
    parts.push(`${plural(ineligible, 'grant is', 'grants are')} for people no longer eligible`);
  const emergency = count('rule-emergency');
  if (emergency > 0)
    parts.push(`${plural(emergency, 'emergency grant is', 'emergency grants are')} no longer allowed`);
  const conflicts = grants.filter((d) => d.code === 'conflict').length;
  if (conflicts > 0) parts.push(plural(conflicts, 'conflict', 'conflicts'));
  const later = grants.filter((d) => d.severity === 'warning').length;
  const summary = `${parts.join('; ')}${later > 0 ? ` (${later} of them only from the rule's effective date)` : ''}`;
  return { summary, grants };
}
