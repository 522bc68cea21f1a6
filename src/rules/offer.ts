// What the grant flow may offer under the access rules: who may hold an
// app's entitlements and tiers (eligible), and until when (maxDuration).
// The same rules validate judges by (src/rules/evaluate.ts), asked before a
// file is written rather than after.
import type { AppFile, Person } from '../model/repo.js';
import { humanTime, type Instant } from '../model/time.js';
import { eligible } from './evaluate.js';
import { AppRules, addDuration, type Rule, type RuleSettings } from './resolve.js';

/** The longest a grant may last under its rules, from a start. */
export interface Cap {
  /** The ISO 8601 duration of the shortest cap (`P90D`). */
  duration: string;
  /** The rule that sets it. */
  rule: string;
  /** The latest end allowed. */
  longest: Instant;
}

/** Why a person may not hold access under these rules (the first rule that excludes them); undefined: they may. */
export function notEligible(
  rules: readonly Rule[],
  id: string,
  person: Person | undefined,
): string | undefined {
  for (const rule of rules)
    if (rule.eligible && !eligible(id, person, rule.eligible))
      return `not eligible: ${shortEligible(rule.eligible)}`;
  return undefined;
}

/** The shortest maxDuration of `rules` from `from`, or undefined when none caps the duration. */
export function capOf(rules: readonly Rule[], from: Instant, zone: string): Cap | undefined {
  let cap: Cap | undefined;
  for (const rule of rules) {
    if (rule.maxDuration === undefined) continue;
    const longest = addDuration(from, rule.maxDuration, zone);
    if (longest !== undefined && (cap === undefined || longest < cap.longest))
      cap = { duration: rule.maxDuration, rule: rule.name, longest };
  }
  return cap;
}

/** Why an end is past a cap, with the longest end allowed; undefined when it is within it. */
export function pastCap(cap: Cap, end: Instant | undefined, zone: string): string | undefined {
  const latest = latestText(cap, zone);
  if (end === undefined)
    return `${cap.rule} allows at most ${cap.duration}: give an end, at the latest ${latest}`;
  if (end > cap.longest)
    return `${cap.rule} allows at most ${cap.duration}: the longest end allowed is ${latest}`;
  return undefined;
}

/** One app's rules as the grant flow asks them: per entitlement, per tier, and for a person. */
export class AppOffer {
  private readonly rules: AppRules;
  constructor(
    appId: string,
    appFile: string,
    private readonly app: AppFile | undefined,
    settings: RuleSettings,
  ) {
    this.rules = new AppRules(appId, appFile, app, settings);
  }

  /** Whether any rule applies in the app: without one, everything is offered as before. */
  get any(): boolean {
    return this.rules.any;
  }

  /** The rules a grant of these entitlements and tier falls under. */
  rulesOf(grant: { permissions?: readonly string[] | undefined; license?: string | undefined }): Rule[] {
    return this.rules.forGrant(grant, []);
  }

  /** Why a person may not hold an entitlement; undefined: they may. */
  entitlement(id: string, user: string, person: Person | undefined): string | undefined {
    return notEligible(this.rulesOf({ permissions: [id] }), user, person);
  }

  /** Why a person may not hold a tier over a window (not eligible, or longer than its cap); undefined: they may. */
  tier(
    id: string,
    user: string,
    person: Person | undefined,
    window: { from: Instant; to: Instant | undefined },
    zone: string,
  ): string | undefined {
    const rules = this.rulesOf({ license: id });
    const why = notEligible(rules, user, person);
    if (why) return why;
    const cap = capOf(rules, window.from, zone);
    return cap && (window.to === undefined || window.to > cap.longest)
      ? `${cap.rule} allows at most ${cap.duration}`
      : undefined;
  }

  /** Why a person may not add an entitlement to those they hold (a held one can always be kept); undefined: they may. */
  added(id: string, held: readonly string[], user: string, person: Person | undefined): string | undefined {
    return held.includes(id) ? undefined : this.entitlement(id, user, person);
  }

  /** Why a person may not move to a tier (eligibility alone: the end is asked after, under its cap); undefined: they may. */
  tierOpen(id: string, user: string, person: Person | undefined): string | undefined {
    return notEligible(this.rulesOf({ license: id }), user, person);
  }

  /** The cap of a grant of these entitlements and tier counted from `from` (its start, else now). */
  grantCap(
    grant: { permissions?: readonly string[] | undefined; license?: string | undefined },
    from: Instant,
    zone: string,
  ): Cap | undefined {
    return capOf(this.rulesOf(grant), from, zone);
  }

  /**
   * Why a person may hold nothing in the app, when every entitlement and tier
   * (or the ones `permissions` names) is closed to them; undefined: something is open.
   */
  closedTo(user: string, person: Person | undefined, permissions?: readonly string[]): string | undefined {
    if (!this.rules.any) return undefined;
    if (permissions !== undefined && permissions.length > 0)
      return notEligible(this.rulesOf({ permissions }), user, person);
    const items = [
      ...(this.app?.entitlements ?? []).map((e) => this.rulesOf({ permissions: [e.id] })),
      ...(this.app?.licenses ?? []).map((l) => this.rulesOf({ license: l.id })),
    ];
    if (items.length === 0) return undefined;
    let first: string | undefined;
    for (const rules of items) {
      const why = notEligible(rules, user, person);
      if (!why) return undefined;
      first ??= why;
    }
    return first;
  }

  /**
   * The cap a schedule is asked under, before the tier is picked: the
   * entitlements' shortest, and, when the grant may carry a tier, no longer
   * than the most a tier still open to the person allows (a tier whose own
   * cap the chosen window passes is then not offered).
   */
  scheduleCap(
    permissions: readonly string[],
    user: string,
    person: Person | undefined,
    from: Instant,
    zone: string,
  ): Cap | undefined {
    const caps: Cap[] = [];
    const own = permissions.length > 0 ? capOf(this.rulesOf({ permissions }), from, zone) : undefined;
    if (own) caps.push(own);
    const tiers = (this.app?.licenses ?? [])
      .map((l) => this.rulesOf({ license: l.id }))
      .filter((rules) => !notEligible(rules, user, person));
    if (tiers.length > 0) {
      const tierCaps = tiers.map((rules) => capOf(rules, from, zone));
      if (tierCaps.every((c) => c !== undefined))
        caps.push(tierCaps.reduce((a, b) => (b.longest > a.longest ? b : a)));
    }
    return caps.reduce<Cap | undefined>(
      (a, b) => (a === undefined || b.longest < a.longest ? b : a),
      undefined,
    );
  }
}

/** Who a rule is for, short enough for a line of a choice: `department finance or ops`, `only dave, frank`. */
function shortEligible(rule: NonNullable<Rule['eligible']>): string {
  const parts = Object.entries(rule.attributes ?? {}).map(([k, v]) => `${k} ${v.join(' or ')}`);
  if (rule.people) parts.push(`${parts.length > 0 ? 'or ' : ''}only ${rule.people.join(', ')}`);
  return parts.length > 0 ? `for ${parts.join(', ')}` : 'for no one';
}

/** The latest end a cap allows, to the minute, as the flow says it. */
export function latestText(cap: Cap, zone: string): string {
  return humanTime(Math.floor(cap.longest / 60_000) * 60_000, zone);
}
