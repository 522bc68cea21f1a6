import { compareDiagnostics, type Diagnostic, type Finding } from '../model/diagnostics.js';
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { buildContext, type RuleContext } from './context.js';
import { accessRules } from './rules/access-rules.js';
import { type DateFinding, dateFindings, grantDates } from './rules/dates.js';
import { seatLimits, seatsOverUntil } from './rules/seats.js';
import { nodeKey, placeRead, placer, rules, type Validation } from './validate.js';

/**
 * One loaded repository validated at many instants (iden serve, between two
 * pulls): exactly what validateRepo(repo, at) gives at each, but the rules
 * that do not read the instant run once. Of those that do, an ended grant's
 * warning is looked up among the ends sorted once, a seat limit is swept only
 * for the tiers some instant from `at` on exceeds, and the access rules (whose
 * duration caps count from `at`) run again.
 */
export class StandingValidation {
  private readonly ctx: RuleContext;
  private readonly place: (finding: Finding) => Diagnostic;
  private readonly schemaNodes: Set<string>;
  /** Per rule, in the rules' order: its findings when it does not read the instant. */
  private readonly fixedFindings: (Finding[] | undefined)[];
  /** The same, placed (by `ready`, the files read in one batch). */
  private fixed: (Diagnostic[] | undefined)[] | undefined;
  /** The expired-grant warnings, by the instant each holds from. */
  private readonly ending: (DateFinding & { from: Instant; placed?: Diagnostic | undefined })[];
  private readonly seatsOver: Map<string, Instant>;
  private last: { at: Instant; validation: Validation } | undefined;
  /** Findings of the rules that read the instant, placed: most are found again at the next instant. */
  private readonly placedBefore = new Map<string, Diagnostic[]>();

  constructor(private readonly repo: AccessRepo) {
    this.ctx = buildContext(repo, 0);
    this.place = placer(repo);
    // A node with a schema error keeps that one diagnostic; rules reading the same node would only repeat it.
    this.schemaNodes = new Set(repo.diagnostics.map(nodeKey));
    const dates = dateFindings(this.ctx);
    this.ending = dates
      .filter((d): d is DateFinding & { from: Instant } => d.from !== undefined)
      .sort((a, b) => a.from - b.from);
    this.seatsOver = seatsOverUntil(this.ctx);
    this.fixedFindings = rules.map((rule) => {
      if (rule === seatLimits || rule === accessRules) return undefined;
      return rule === grantDates
        ? dates.filter((d) => d.from === undefined).map((d) => d.finding())
        : rule(this.ctx);
    });
  }

  /**
   * Places, reading their files in batches, the findings of the rules that do
   * not read the instant (the first time) and the ended-grant warnings that
   * hold by `until` and are not placed yet: a finding is placed on its line by
   * parsing its file again, and a commit's file read alone is a git process.
   * A caller awaits this before `at(t)` for t up to `until`.
   */
  async ready(until: Instant): Promise<void> {
    const due: (typeof this.ending)[number][] = [];
    for (const d of this.ending) {
      if (d.from > until) break;
      if (!('placed' in d)) due.push(d);
    }
    const fixed = this.fixed ? [] : this.fixedFindings.flatMap((f) => f ?? []);
    if (due.length === 0 && fixed.length === 0) return;
    const placed = await placeRead(this.repo, this.place, [...fixed, ...due.map((d) => d.finding())]);
    if (!this.fixed) this.fixed = this.split(placed.slice(0, fixed.length));
    due.forEach((d, i) => {
      d.placed = this.kept(placed[fixed.length + i]!);
    });
  }

  /** The fixed rules' placed diagnostics, per rule (placed here, a file at a time, when `ready` was not awaited). */
  private placedFixed(): (Diagnostic[] | undefined)[] {
    this.fixed ??= this.split(this.fixedFindings.flatMap((f) => f ?? []).map(this.place));
    return this.fixed;
  }

  /** Placed findings of the fixed rules, in their order, back into one list per rule, without those a schema error holds. */
  private split(placed: Diagnostic[]): (Diagnostic[] | undefined)[] {
    let at = 0;
    return this.fixedFindings.map((findings) => {
      if (!findings) return undefined;
      const mine = placed.slice(at, at + findings.length);
      at += findings.length;
      return mine.filter((d) => !this.schemaNodes.has(nodeKey(d)));
    });
  }

  /** A placed diagnostic, unless a schema error on its node holds it. */
  private kept(d: Diagnostic): Diagnostic | undefined {
    return this.schemaNodes.has(nodeKey(d)) ? undefined : d;
  }

  /** validateRepo(repo, at). */
  at(at: Instant): Validation {
    if (this.last?.at === at) return this.last.validation;
    const ctx: RuleContext = { ...this.ctx, at };
    const ruleDiagnostics: Diagnostic[] = [];
    const placedFixed = this.placedFixed();
    rules.forEach((rule, i) => {
      const fixed = placedFixed[i];
      if (fixed) ruleDiagnostics.push(...fixed);
      if (rule === grantDates) ruleDiagnostics.push(...this.ended(at));
      else if (rule === seatLimits) ruleDiagnostics.push(...this.placedOnce(seatLimits(this.seatCtx(ctx))));
      else if (rule === accessRules) ruleDiagnostics.push(...this.placedOnce(accessRules(ctx)));
    });
    // Sorted as validateRepo sorts; the same list in the same order, so ties fall the same way.
    const diagnostics = [...this.repo.diagnostics, ...ruleDiagnostics].sort(compareDiagnostics);
    const filesWithErrors = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
    const validation = { ok: filesWithErrors.size === 0, diagnostics, filesWithErrors };
    this.last = { at, validation };
    return validation;
  }

  private placedOnce(findings: Finding[]): Diagnostic[] {
    if (this.placedBefore.size > 100_000) this.placedBefore.clear();
    return findings.flatMap((finding) => {
      const key = JSON.stringify(finding);
      let placed = this.placedBefore.get(key);
      if (!placed) {
        placed = this.placed([finding]);
        this.placedBefore.set(key, placed);
      }
      return placed;
    });
  }

  private placed(findings: Finding[]): Diagnostic[] {
    return findings.map(this.place).filter((d) => !this.schemaNodes.has(nodeKey(d)));
  }

  /** The warnings of grants ended at `at`, each placed once. */
  private ended(at: Instant): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const d of this.ending) {
      if (d.from > at) break;
      if (!('placed' in d)) {
        const [placed] = this.placed([d.finding()]);
        d.placed = placed;
      }
      if (d.placed) out.push(d.placed);
    }
    // By end, not in the grants' order: one such warning a file, so the sort that follows ties none of them.
    return out;
  }

  /** The context seatLimits reads, with only the grants of tiers that some instant from `at` on exceeds. */
  private seatCtx(ctx: RuleContext): RuleContext {
    const tiers = new Set([...this.seatsOver].filter(([, until]) => ctx.at < until).map(([key]) => key));
    if (tiers.size === 0) return { ...ctx, grants: [] };
    return {
      ...ctx,
      grants: ctx.grants.filter((g) => g.license !== undefined && tiers.has(`${g.app}\u0000${g.license}`)),
    };
  }
}
