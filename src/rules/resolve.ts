import { DateTime, Duration } from 'luxon';
import type { YamlPath } from '../model/diagnostics.js';
import type { AccessRule } from '../model/files.generated.js';
import type { AppFile, SettingsFile } from '../model/repo.js';
import { type Instant, parseTime } from '../model/time.js';

/**
 * One access rule as it applies to a grant: the app's rule with an
 * entitlement's or tier's own rule over it, field by field, and the
 * settings' privileged defaults under both.
 */
export interface Rule {
  /** What it belongs to: `payments`, `payments:approve`, or `payments license pro`. */
  key: string;
  /** How findings and check-pr name it. */
  name: string;
  /** How check-pr names its approvers ("the payments owners"). */
  approversName: string;
  /** Where it is written (the most specific of the rules merged), for findings about the rule itself. */
  file: string;
  path: YamlPath;
  maxDuration?: string;
  eligible?: AccessRule['eligible'];
  /** Distinct approvals a request needs. */
  approvals: number;
  /** Person ids and `manager`; absent: the app's approvers and the Super Admins. */
  approvers?: string[];
  privileged: boolean;
  directGrant: boolean;
  emergency?: { maxDuration: string; by?: string[] };
  effective?: string;
}

export type RuleSettings = Pick<SettingsFile, 'rules'> | undefined;

const NONE: readonly string[] = [];

/** The default number of approvals a privileged rule asks for, where neither it nor the settings say. */
export const PRIVILEGED_APPROVALS = 2;

/**
 * The rules that apply to a grant of `permissions` and `license` in `app`:
 * one per entitlement or tier that has a rule of its own, and the app's for
 * the rest (once). Empty when the app has no rules at all: nothing changes.
 */
export function rulesFor(
  appId: string,
  appFile: string,
  app: AppFile | undefined,
  grant: { permissions?: readonly string[] | undefined; license?: string | undefined },
  settings: RuleSettings,
): Rule[] {
  return new RuleIndex(settings).forApp(appId, appFile, app).forGrant(grant, []);
}

/**
 * Rules resolved once per app, entitlement and tier, for checking many
 * grants: a grant then costs a few map lookups, never a merge.
 */
export class RuleIndex {
  private readonly apps = new Map<string, AppRules>();
  constructor(private readonly settings: RuleSettings) {}

  forApp(appId: string, appFile: string, app: AppFile | undefined): AppRules {
    let found = this.apps.get(appId);
    if (!found) {
      found = new AppRules(appId, appFile, app, this.settings);
      this.apps.set(appId, found);
    }
    return found;
  }
}

/** One app's rules: the app's own (merged once) and each entitlement's and tier's, looked up by id. */
export class AppRules {
  readonly any: boolean;
  private readonly base: Rule | undefined;
  private readonly entitlements = new Map<string, Rule>();
  private readonly licenses = new Map<string, Rule>();

  constructor(appId: string, appFile: string, app: AppFile | undefined, settings: RuleSettings) {
    const base = app?.rule;
    this.base = base ? merge(appId, appFile, ['rule'], base, settings) : undefined;
    for (const [i, e] of (app?.entitlements ?? []).entries())
      if (e.rule)
        this.entitlements.set(
          e.id,
          merge(
            `${appId}:${e.id}`,
            appFile,
            ['entitlements', i, 'rule'],
            { ...base, ...(e.rule as AccessRule) },
            settings,
          ),
        );
    for (const [i, l] of (app?.licenses ?? []).entries())
      if (l.rule)
        this.licenses.set(
          l.id,
          merge(
            `${appId} license ${l.id}`,
            appFile,
            ['licenses', i, 'rule'],
            { ...base, ...(l.rule as AccessRule) },
            settings,
          ),
        );
    this.any = this.base !== undefined || this.entitlements.size > 0 || this.licenses.size > 0;
  }

  /** The rules a grant falls under, each once, pushed onto `out` (emptied first). */
  forGrant(
    grant: { permissions?: readonly string[] | undefined; license?: string | undefined },
    out: Rule[],
  ): Rule[] {
    // Called once a grant over a whole repository: no closure, no list made, and pop rather than
    // setting length, which is a call into the runtime.
    while (out.length > 0) out.pop();
    if (!this.any) return out;
    for (const p of grant.permissions ?? NONE) {
      const rule = this.entitlements.get(p) ?? this.base;
      if (rule && !out.includes(rule)) out.push(rule);
    }
    if (grant.license !== undefined) {
      const rule = this.licenses.get(grant.license) ?? this.base;
      if (rule && !out.includes(rule)) out.push(rule);
    }
    return out;
  }
}

function merge(key: string, file: string, path: YamlPath, rule: AccessRule, settings: RuleSettings): Rule {
  const privileged = rule.privileged === true;
  const defaults = privileged ? settings?.rules?.privileged : undefined;
  const maxDuration = rule.maxDuration ?? defaults?.maxDuration;
  const name = rule.name ?? `the rule of ${key}`;
  return {
    key,
    name,
    approversName: rule.name ?? `the approvers of ${key}`,
    file,
    path,
    ...(maxDuration !== undefined ? { maxDuration } : {}),
    ...(rule.eligible !== undefined ? { eligible: rule.eligible } : {}),
    approvals: rule.approvals ?? (privileged ? (defaults?.approvals ?? PRIVILEGED_APPROVALS) : 1),
    ...(rule.approvers !== undefined ? { approvers: rule.approvers } : {}),
    privileged,
    directGrant: rule.directGrant !== false,
    ...(rule.emergency !== undefined ? { emergency: rule.emergency } : {}),
    ...(rule.effective !== undefined ? { effective: rule.effective } : {}),
  };
}

/** `from` plus an ISO 8601 duration, calendar-aware in `zone` (P1M from 31 January is the last of February). */
export function addDuration(from: Instant, duration: string, zone: string): Instant | undefined {
  const d = Duration.fromISO(duration);
  if (!d.isValid) return undefined;
  return DateTime.fromMillis(from, { zone }).plus(d).toMillis();
}

/** Whether a rule (or conflict) dated `effective` is in force at `at`; undated ones always are. */
export function inForce(effective: string | undefined, at: Instant, zone: string): boolean {
  if (effective === undefined) return true;
  const parsed = parseTime(effective, zone);
  return !parsed.ok || parsed.at <= at;
}

/** The settings' window for approving an emergency grant after the fact, PT24H by default. */
export function emergencyWindow(settings: RuleSettings): string {
  return settings?.rules?.emergencyWindow ?? 'PT24H';
}
