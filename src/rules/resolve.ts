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
  if (!app) return [];
  const out = new Map<string, Rule>();
  const base = app.rule;
  const add = (own: AccessRule | undefined, key: string, path: YamlPath) => {
    if (!own && !base) return;
    const k = own ? key : appId;
    if (out.has(k)) return;
    out.set(k, merge(k, appFile, own ? path : ['rule'], { ...base, ...own }, settings));
  };
  for (const p of grant.permissions ?? []) {
    const index = app.entitlements.findIndex((e) => e.id === p);
    const own = index < 0 ? undefined : (app.entitlements[index]!.rule as AccessRule | undefined);
    add(own, `${appId}:${p}`, ['entitlements', index, 'rule']);
  }
  if (grant.license !== undefined) {
    const index = (app.licenses ?? []).findIndex((l) => l.id === grant.license);
    const own = index < 0 ? undefined : (app.licenses![index]!.rule as AccessRule | undefined);
    add(own, `${appId} license ${grant.license}`, ['licenses', index, 'rule']);
  }
  return [...out.values()];
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
