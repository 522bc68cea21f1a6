import type { YamlPath } from '../model/diagnostics.js';
import type { GrantFile, Person } from '../model/repo.js';
import { humanTime, type Instant, parseTime } from '../model/time.js';
import { addDuration, type Rule } from './resolve.js';

export type RuleCode = 'rule-max-duration' | 'rule-not-eligible' | 'rule-emergency';

/** A grant that breaks a rule: where in the grant, what is wrong and what would be right. */
export interface RuleFinding {
  code: RuleCode;
  message: string;
  path: YamlPath;
  rule: Rule;
}

export interface GrantFacts {
  people: ReadonlyMap<string, Person>;
  /** "Now": a grant without a start counts from here (its merge, at the latest). */
  at: Instant;
  zone: string;
}

/** Checks one grant against the rules that apply to it (rulesFor). Pure. */
export function evaluateGrant(grant: GrantFile, rules: readonly Rule[], facts: GrantFacts): RuleFinding[] {
  const findings: RuleFinding[] = [];
  // Dates are read only when a rule caps the duration, the person only when one has eligible: (no closures: called once a grant).
  let capped = false;
  let person: Person | undefined;
  for (const r of rules) {
    if (r.maxDuration !== undefined || (grant.emergency === true && r.emergency)) capped = true;
    if (r.eligible && !person) person = facts.people.get(grant.user);
  }
  const start = !capped || grant.start === undefined ? undefined : parseTime(grant.start, facts.zone);
  const end = !capped || grant.end === undefined ? undefined : parseTime(grant.end, facts.zone);
  if ((start && !start.ok) || (end && !end.ok)) return findings; // the dates rule reports it
  const from = start?.ok ? start.at : facts.at;
  for (const rule of rules) {
    const emergency = grant.emergency === true ? rule.emergency : undefined;
    if (grant.emergency === true && !rule.emergency) {
      findings.push({
        code: 'rule-emergency',
        message: `${rule.name} allows no emergency access (no emergency: in its rule); remove emergency: true and request the access`,
        path: ['emergency'],
        rule,
      });
      continue;
    }
    if (emergency && grant.start === undefined)
      findings.push({
        code: 'rule-emergency',
        message: `an emergency grant needs a start (the instant it is asked for, as iden grant --emergency writes it), from which ${rule.name} allows ${emergency.maxDuration}`,
        path: ['emergency'],
        rule,
      });
    const cap = emergency?.maxDuration ?? rule.maxDuration;
    if (cap !== undefined) {
      const longest = addDuration(from, cap, facts.zone);
      const what = emergency ? `emergency access under ${rule.name}` : rule.name;
      const since = start?.ok
        ? `its start ${grant.start}`
        : `now (${humanTime(facts.at, facts.zone)}; no start)`;
      if (longest !== undefined && !end)
        findings.push({
          code: 'rule-max-duration',
          message: `${what} allows at most ${cap}: add an end, at the latest ${humanTime(longest, facts.zone)} (${cap} after ${since})`,
          path: [],
          rule,
        });
      else if (longest !== undefined && end?.ok && end.at > longest)
        findings.push({
          code: 'rule-max-duration',
          message: `end ${grant.end} is more than ${cap} after ${since}, which ${what} allows at most: the longest end allowed is ${humanTime(longest, facts.zone)}`,
          path: ['end'],
          rule,
        });
    }
    if (rule.eligible && !eligible(grant.user, person, rule.eligible))
      findings.push({
        code: 'rule-not-eligible',
        message: `${grant.user} may not hold this under ${rule.name}: it is for ${describeEligible(rule.eligible)}${person ? `, and ${grant.user} has ${describeAttributes(person, rule.eligible)}` : ''}`,
        path: ['user'],
        rule,
      });
  }
  return findings;
}

/** Whether a person is eligible: named, or matching every attribute the rule lists (any of its values). */
export function eligible(
  id: string,
  person: Person | undefined,
  rule: NonNullable<Rule['eligible']>,
): boolean {
  if (rule.people?.includes(id)) return true;
  // Once a grant over a whole repository: nothing is made, no list of entries, no list of a single value.
  const wanted = rule.attributes ?? {};
  let any = false;
  for (const key in wanted) {
    if (!Object.hasOwn(wanted, key)) continue;
    any = true;
    if (!person) return false;
    const values = wanted[key]!;
    const value = person.attributes?.[key];
    if (value === undefined) return false;
    if (!Array.isArray(value)) {
      if (!values.includes(value)) return false;
    } else if (!value.some((v) => values.includes(v))) return false;
  }
  return any || rule.people === undefined;
}

/** A person's values of an attribute, a text or a list of texts. */
export function attributeValues(person: Person, key: string): string[] {
  const value = person.attributes?.[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function describeEligible(rule: NonNullable<Rule['eligible']>): string {
  const parts: string[] = [];
  if (rule.people) parts.push(rule.people.join(', '));
  const attrs = Object.entries(rule.attributes ?? {});
  if (attrs.length > 0)
    parts.push(`people whose ${attrs.map(([k, v]) => `${k} is ${v.join(' or ')}`).join(' and ')}`);
  return parts.join(', or ') || 'no one';
}

function describeAttributes(person: Person, rule: NonNullable<Rule['eligible']>): string {
  const keys = Object.keys(rule.attributes ?? {});
  if (keys.length === 0) return 'no place in its list';
  return keys
    .map((k) => {
      const values = attributeValues(person, k);
      return values.length === 0 ? `no ${k}` : `${k} ${values.join(', ')}`;
    })
    .join(' and ');
}
