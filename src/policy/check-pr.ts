import { UsageError } from '../errors.js';
import { changedPaths, resolveRef } from '../git/diff.js';
import { mergeTree } from '../git/merge.js';
import { target } from '../model/access.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { AccessRepo, GrantEntry } from '../model/repo.js';
import { humanTime, type Instant, isoUtc, zoneOf } from '../model/time.js';
import { grantWindow, isActive } from '../model/window.js';
import { changeFindings } from '../validate/change.js';
import type { FileVerdict } from './classify.js';
import { judgeChange, type PullFacts } from './judge.js';
import { readChange, readPolicy } from './read-change.js';
import { recentRevocations } from './revocations.js';
import { type RulePreview, rulePreview } from './rule-preview.js';

export { basePolicy } from './base-policy.js';

export class RefError extends UsageError {}

export interface Effect {
  action: 'grant' | 'revoke';
  app: string;
  user: string;
  entitlement?: string;
  license?: string;
}

export interface Scheduled extends Effect {
  /** When the grant's start or end makes it happen (ISO 8601, UTC). */
  at: string;
}

/** A grant file as the pull request leaves it, for reviewers: dates in the settings' time zone. */
export interface GrantSummary {
  file: string;
  user: string;
  app: string;
  permissions: string[];
  license?: string;
  start?: string;
  end?: string;
  reason?: string;
}

export interface CheckResult {
  ok: boolean;
  files: FileVerdict[];
  head: string;
  /** The tip of the protected branch the change was judged against. */
  base: string;
  /** Problems with the pull request as a whole (a base that is not the protected branch, a conflict). */
  problems: string[];
  /** Validation problems the pull request brings: in the files it changes, or new since the base. */
  diagnostics: Diagnostic[];
  /** What merging would grant and revoke now: the changed grants active now in the merge result against the tip. */
  effect: Effect[];
  /** What the changed grants will do later: future starts and ends. */
  scheduled: Scheduled[];
  /** The changed grant files as the merge leaves them. */
  grants: GrantSummary[];
  /** The settings' time zone, in which `grants` shows dates. */
  zone: string;
  /** A change of access rules or conflicts, held against every grant in force: what would newly break them. */
  preview?: RulePreview;
}

export interface CheckInput {
  root: string;
  /** The protected branch's tip (a ref or commit): its roles, people and approvers decide. */
  protected: string;
  /** The protected branch's name, when known: a pull request into any other branch fails. */
  protectedName?: string | undefined;
  /** The pull request's head commit. */
  head: string;
  /** The branch the pull request merges into, as GitHub says (with --pr). */
  target?: string | undefined;
  /**
   * A merge queue's group: `head` is already the merge result, made on top of
   * this commit (the protected tip, or the group ahead in the queue).
   */
  mergedOnto?: string | undefined;
  /** Who wrote the pull request, its reviews, and the commit reviews must approve (its head). */
  pull: PullFacts;
  /** The instant to evaluate at, given the time zone (a bare --at date is midnight there). */
  at: (zone: string) => Instant;
}

/**
 * The I/O shell of the pull-request check. The change judged is what
 * merging the head into the protected branch's tip makes, as git's own merge
 * machinery makes it (every merge base counts, so a criss-cross or "evil"
 * merge shows what it really changes), against that tip; roles, people and
 * approvers are the tip's. Nothing is checked out: both sides are read from
 * git objects.
 */
export async function checkPullRequest(input: CheckInput): Promise<CheckResult> {
  const tip = await resolveRef(input.root, input.protected);
  const head = await resolveRef(input.root, input.head);
  if (!tip) throw new RefError(`--base ${input.protected} is not a commit in ${input.root}`);
  if (!head) throw new RefError(`--head ${input.head} is not a commit in ${input.root}`);
  const problems: string[] = [];
  const name = input.protectedName;
  if (name !== undefined && input.target !== undefined && input.target !== name)
    problems.push(
      `the pull request merges into ${input.target}, not the protected branch ${name}: access changes are checked only against ${name}`,
    );

  let before = tip;
  let after: string;
  if (input.mergedOnto !== undefined) {
    const onto = await resolveRef(input.root, input.mergedOnto);
    if (!onto)
      throw new RefError(`the merge group's base ${input.mergedOnto} is not a commit in ${input.root}`);
    before = onto;
    after = head;
  } else {
    const merged = await mergeTree(input.root, tip, head);
    if (!merged.ok) {
      const where = `${name ?? 'the protected branch'}@${tip.slice(0, 7)}`;
      problems.push(
        merged.conflicts.length > 0
          ? `the pull request does not merge into ${where}: ${merged.conflicts.join(', ')} conflict; update the branch`
          : `the pull request cannot be merged into ${where}: ${merged.why}`,
      );
      return failed(tip, head, problems, zoneOf(await readPolicy(input.root, tip)));
    }
    after = merged.tree;
  }

  const changed = await changedPaths(input.root, before, after);
  const {
    before: beforeRepo,
    after: afterRepo,
    grantFiles,
    whole,
  } = await readChange(input.root, before, after, changed);
  const policy = before === tip ? beforeRepo : await readPolicy(input.root, tip);
  const named = policy.settings?.value?.policy?.branch;
  if (named !== undefined && name !== undefined && named !== name && input.target === undefined)
    problems.push(`${name} is not the protected branch ${named} (policy.branch): check against ${named}`);
  const zone = zoneOf(afterRepo);
  const at = input.at(zone);
  const verdicts = judgeChange({
    policy,
    before: beforeRepo,
    after: afterRepo,
    changed,
    pull: { ...input.pull, head: (await resolveRef(input.root, input.pull.head)) ?? input.pull.head },
    revoked: await recentRevocations(input.root, tip, at, zoneOf(policy)),
  });

  const touched = new Set(changed.map((c) => c.path));
  const {
    diagnostics,
    after: afterDiagnostics,
    known: beforeKeys,
  } = await changeFindings(beforeRepo, afterRepo, at, touched, {
    blame: grantFiles,
    elsewhere: whole ? 'all' : 'none',
  });
  const broken = new Map<string, Diagnostic>();
  for (const d of diagnostics) if (d.severity === 'error' && !broken.has(d.file)) broken.set(d.file, d);
  for (const verdict of verdicts) {
    const problem = broken.get(verdict.file);
    if (problem) {
      verdict.ok = false;
      verdict.reason = `${verdict.reason}; does not validate: ${problem.message}`;
    }
  }
  const preview = whole ? rulePreview(afterDiagnostics, beforeKeys, touched) : undefined;
  const changedGrants = (repo: AccessRepo) => repo.grants.filter((g) => whole || grantFiles.has(g.file));
  return {
    ok: problems.length === 0 && verdicts.every((v) => v.ok) && broken.size === 0,
    files: verdicts,
    head,
    base: tip,
    problems,
    diagnostics,
    effect: effect(changedGrants(beforeRepo), zoneOf(beforeRepo), changedGrants(afterRepo), zone, at),
    scheduled: scheduled(
      afterRepo.grants.filter((g) => grantFiles.has(g.file)),
      zone,
      at,
    ),
    grants: afterRepo.grants.filter((g) => grantFiles.has(g.file)).flatMap((g) => summary(g, zone)),
    zone,
    ...(preview ? { preview } : {}),
  };
}

/** A pull request that cannot be judged file by file: only its problems. */
function failed(base: string, head: string, problems: string[], zone: string): CheckResult {
  return {
    ok: false,
    files: [],
    head,
    base,
    problems,
    diagnostics: [],
    effect: [],
    scheduled: [],
    grants: [],
    zone,
  };
}

type Active = Map<string, Effect>;

/** The assignments valid grants give at an instant, keyed by app, user and what. */
function active(grants: readonly GrantEntry[], zone: string, at: Instant): Active {
  const out: Active = new Map();
  for (const grant of grants) {
    const value = grant.value;
    const window = value && grantWindow(value, zone);
    if (!value || !window || !isActive(window, at)) continue;
    const { app, user } = value;
    for (const entitlement of value.permissions ?? [])
      out.set(`${app}\u0000${user}\u0000${target({ entitlement })}`, {
        action: 'grant',
        app,
        user,
        entitlement,
      });
    if (value.license !== undefined) {
      const license = value.license;
      out.set(`${app}\u0000${user}\u0000${target({ license })}`, { action: 'grant', app, user, license });
    }
  }
  return out;
}

function effect(
  base: readonly GrantEntry[],
  baseZone: string,
  head: readonly GrantEntry[],
  headZone: string,
  at: Instant,
): Effect[] {
  const before = active(base, baseZone, at);
  const after = active(head, headZone, at);
  const out: Effect[] = [];
  for (const [key, e] of after) if (!before.has(key)) out.push(e);
  for (const [key, e] of before) if (!after.has(key)) out.push({ ...e, action: 'revoke' });
  return out.sort(
    (a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user) || a.action.localeCompare(b.action),
  );
}

function scheduled(grants: readonly GrantEntry[], zone: string, at: Instant): Scheduled[] {
  const out: Scheduled[] = [];
  for (const grant of grants) {
    const value = grant.value;
    const window = value && grantWindow(value, zone);
    if (!value || !window) continue;
    const what = [
      ...(value.permissions ?? []).map((entitlement) => ({ entitlement })),
      ...(value.license !== undefined ? [{ license: value.license }] : []),
    ];
    for (const [action, when] of [
      ['grant', window.start],
      ['revoke', window.end],
    ] as const) {
      if (when === undefined || when <= at) continue;
      for (const w of what) out.push({ action, app: value.app, user: value.user, ...w, at: isoUtc(when) });
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

function summary(grant: GrantEntry, zone: string): GrantSummary[] {
  const value = grant.value;
  if (!value) return [];
  const window = grantWindow(value, zone);
  return [
    {
      file: grant.file,
      user: value.user,
      app: value.app,
      permissions: value.permissions ?? [],
      ...(value.license !== undefined ? { license: value.license } : {}),
      ...(window?.start !== undefined ? { start: humanTime(window.start, zone) } : {}),
      ...(window?.end !== undefined ? { end: humanTime(window.end, zone) } : {}),
      ...(value.reason !== undefined ? { reason: value.reason } : {}),
    },
  ];
}
