import {
  type Code,
  didYouMean,
  error,
  type Finding,
  warning,
  type YamlPath,
} from '../../model/diagnostics.js';
import { peopleById } from '../../model/repo.js';
import { humanTime, parseTime } from '../../model/time.js';
import { grantWindow } from '../../model/window.js';
import { conflictsOf, findConflicts, type HeldGrant } from '../../rules/conflicts.js';
import { evaluateGrant } from '../../rules/evaluate.js';
import { type AppRules, inForce, type Rule, RuleIndex } from '../../rules/resolve.js';
import type { RuleContext } from '../context.js';

/**
 * The access rules of _app.yaml and the conflicts of _settings.yaml, held
 * against every grant. A rule dated `effective:` in the future makes a grant
 * already there that breaks it a warning until that date; a grant the pull
 * request changes (blame) must meet it at once.
 */
/** How far ahead of its check an emergency grant may start (the time a pull request takes to merge). */
const EMERGENCY_LEAD_MS = 60 * 60 * 1000;

export function accessRules(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const settings = ctx.repo.settings?.value;
  const people = peopleById(ctx.repo);
  const facts = { people, at: ctx.at, zone: ctx.zone };
  const index = new RuleIndex(settings);
  const anyRules = [...ctx.repo.apps.values()].some((a) => index.forApp(a.id, a.file, a.value).any);
  const rules: Rule[] = [];
  const conflicts = conflictsOf(settings);
  // Per app, the entitlements some conflict names: only their grants are looked at for conflicts.
  const watched = new Map<string, Set<string>>();
  for (const key of conflicts.flatMap((c) => c.entitlements)) {
    const [app = '', ent = ''] = key.split(':');
    watched.set(app, (watched.get(app) ?? new Set()).add(ent));
  }
  const held: HeldGrant[] = [];
  const severity = (
    file: string,
    effective: string | undefined,
    code: Code,
    message: string,
    path: YamlPath,
  ) =>
    ctx.blame.has(file) || inForce(effective, ctx.at, ctx.zone)
      ? error(file, code, message, path)
      : warning(file, code, `${message} (an error from ${effective}, the date the rule takes effect)`, path);
  // The loader keeps an app's grants together: its rules and watched entitlements are looked up once a run of them.
  let appId: string | undefined;
  let appRules: AppRules | undefined;
  let named: Set<string> | undefined;
  for (const grant of ctx.repo.grants) {
    const value = grant.value;
    if (!value) continue;
    if (value.app !== appId) {
      appId = value.app;
      const app = ctx.repo.apps.get(appId);
      appRules = anyRules ? index.forApp(appId, app?.file ?? '', app?.value) : undefined;
      named = watched.get(appId);
    }
    if (appRules) {
      appRules.forGrant(value, rules);
      if (rules.length > 0 || value.emergency === true)
        for (const f of evaluateGrant(value, rules, facts))
          findings.push(severity(grant.file, f.rule.effective, f.code, f.message, f.path));
      // Emergency access is for now: a pull request may not schedule it, to be let in later without approval.
      const start =
        value.emergency === true && value.start !== undefined ? parseTime(value.start, ctx.zone) : undefined;
      if (start?.ok && ctx.blame.has(grant.file) && start.at > ctx.at + EMERGENCY_LEAD_MS)
        findings.push(
          error(
            grant.file,
            'rule-emergency',
            `emergency access starts when it is asked for: start ${value.start} is more than an hour from now (${humanTime(ctx.at, ctx.zone)}); request scheduled access instead`,
            ['start'],
          ),
        );
      if (rules.length === 0 && value.emergency === true)
        findings.push(
          error(
            grant.file,
            'rule-emergency',
            `app "${value.app}" has no rule that allows emergency access (emergency: in a rule of its _app.yaml); remove emergency: true and request the access`,
            ['emergency'],
          ),
        );
    }
    if (named && holdsAny(value.permissions, named)) {
      const window = grantWindow(value, ctx.zone);
      if (window)
        held.push({
          file: grant.file,
          user: value.user,
          app: value.app,
          permissions: value.permissions ?? [],
          window,
          exception: value.exception,
        });
    }
  }
  for (const f of findConflicts(held, conflicts, ctx.at, ctx.zone, ctx.blame))
    if (!f.exception)
      findings.push(severity(f.file, f.conflict.effective, 'conflict', f.message, ['permissions']));
  findings.push(...ruleReferences(ctx, new Set(people.keys())), ...conflictReferences(ctx));
  return findings;
}

/** Whether a grant holds one of `named`: a loop, as it runs for every grant of an app a conflict names. */
function holdsAny(permissions: readonly string[] | undefined, named: ReadonlySet<string>): boolean {
  for (const p of permissions ?? []) if (named.has(p)) return true;
  return false;
}

/** Approvers and eligible people a rule names must be people (or manager). */
function ruleReferences(ctx: RuleContext, people: Set<string>): Finding[] {
  const findings: Finding[] = [];
  if (people.size === 0) return findings;
  for (const app of ctx.repo.apps.values()) {
    const value = app.value;
    if (!value) continue;
    const rules: [YamlPath, NonNullable<typeof value.rule>][] = [];
    if (value.rule) rules.push([['rule'], value.rule]);
    for (const [i, e] of value.entitlements.entries())
      if (e.rule) rules.push([['entitlements', i, 'rule'], e.rule]);
    for (const [i, l] of (value.licenses ?? []).entries())
      if (l.rule) rules.push([['licenses', i, 'rule'], l.rule]);
    for (const [path, rule] of rules) {
      const check = (ids: readonly string[] | undefined, field: YamlPath, allowed: string[]) => {
        for (const [i, id] of (ids ?? []).entries())
          if (!people.has(id) && !allowed.includes(id))
            findings.push(
              error(
                app.file,
                'unknown-person',
                `"${id}" is not a person in grants/_people.yaml${allowed.length > 0 ? ` nor ${allowed.join(' or ')}` : ''}${didYouMean(id, people)}`,
                [...path, ...field, i],
              ),
            );
      };
      check(rule.approvers, ['approvers'], ['manager']);
      check(rule.eligible?.people, ['eligible', 'people'], []);
      check(rule.emergency?.by, ['emergency', 'by'], ['super-admin', 'users-read-write']);
    }
  }
  return findings;
}

/** A conflict must name entitlements that exist, or it would never fire. */
function conflictReferences(ctx: RuleContext): Finding[] {
  const settings = ctx.repo.settings;
  if (!settings?.value) return [];
  const findings: Finding[] = [];
  for (const conflict of conflictsOf(settings.value)) {
    const raw = settings.value.conflicts?.[conflict.index];
    const base: YamlPath = Array.isArray(raw)
      ? ['conflicts', conflict.index]
      : ['conflicts', conflict.index, 'entitlements'];
    for (const [i, key] of conflict.entitlements.entries()) {
      const [appId, ent] = key.split(':') as [string, string];
      const app = ctx.repo.apps.get(appId);
      if (!app) {
        findings.push(
          error(settings.file, 'unknown-app', `no app "${appId}" (no grants/${appId}/_app.yaml)`, [
            ...base,
            i,
          ]),
        );
        continue;
      }
      const ids = app.value?.entitlements.map((e) => e.id);
      if (ids && !ids.includes(ent))
        findings.push(
          error(
            settings.file,
            'unknown-permission',
            `"${ent}" is not an entitlement of app "${appId}"${didYouMean(ent, ids)}`,
            [...base, i],
          ),
        );
    }
  }
  return findings;
}
