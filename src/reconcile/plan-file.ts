import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { remoteUrl, rootCommits } from '../git/log.js';
import { FORMATS } from '../schema/formats.js';
import { batched, jsonChunks, writePieces } from '../util/json-stream.js';
import { packageRoot } from '../util/package-root.js';
import type { Plan } from './plan.js';

export const PLAN_FORMAT_VERSION = 1;

export type RepositoryIdentity = { roots: string[]; origin?: string } | { path: string };

/** A plan written by `iden plan --out`: the plan, sealed to what it was planned from. */
export interface SavedPlan extends Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  iden?: string;
  repository: RepositoryIdentity;
  commit: string | null;
  scope: { app?: string };
  /** A digest of every assignment the repository wanted at `at`. */
  desired: string;
}

/** A file that is not a plan iden can read: a usage error. */
export class PlanFileError extends Error {}

/** The repository's identity: its root commits (the start of its history), or the folder's path. */
export async function repositoryIdentity(
  root: string,
  commit: string | undefined,
): Promise<RepositoryIdentity> {
  if (!commit) return { path: realpathSync(root) };
  const roots = await rootCommits(root, commit);
  const origin = await remoteUrl(root, 'origin');
  // Credentials and the .git suffix are not part of which repository it is.
  const cleaned = origin.replace(/\/\/[^@/]+@/, '//').replace(/\.git$/, '');
  return cleaned ? { roots, origin: cleaned } : { roots };
}

export function writePlanFile(path: string, plan: SavedPlan): void {
  // Written in pieces, as it is made: one string of a million changes is near V8's longest.
  writePieces(path, batched(jsonChunks(plan)));
}

let validate: ReturnType<Ajv2020['compile']> | undefined;

/** Reads a saved plan, checked against schemas/plan.schema.json. */
export function readPlanFile(path: string): SavedPlan {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new PlanFileError(`cannot read the plan ${path}: ${(e as Error).message}`);
  }
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: false, formats: FORMATS });
    validate = ajv.compile(
      JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'plan.schema.json'), 'utf8')),
    );
  }
  if (!validate(value)) {
    const version = (value as { formatVersion?: unknown })?.formatVersion;
    const why =
      version !== undefined && version !== PLAN_FORMAT_VERSION
        ? `its format version is ${JSON.stringify(version)}, and this iden reads ${PLAN_FORMAT_VERSION}`
        : (validate.errors ?? [])
            .slice(0, 3)
            .map((e) => `${e.instancePath || '(top)'} ${e.message}`)
            .join('; ');
    throw new PlanFileError(`${path} is not a plan written by iden plan --out: ${why}`);
  }
  return value as SavedPlan;
}

function canonical(changes: Plan['changes']): string[] {
  return changes
    .map((c) =>
      JSON.stringify([
        c.action,
        c.app,
        c.user,
        c.account,
        c.entitlement ?? null,
        c.license ?? null,
        c.reason,
        c.since ?? null,
      ]),
    )
    .sort();
}

/**
 * What differs between a saved plan and planning its commit at its instant
 * now: a different repository or commit, a different wish (the repository),
 * a changed observation (stale), or changes the repository never asked for
 * (an edited file). Empty when the saved plan is exactly what planning gives.
 */
export function planDifferences(
  saved: SavedPlan,
  now: { repository: RepositoryIdentity; commit: string | null; plan: Plan; desired: string },
): string[] {
  if (JSON.stringify(saved.repository) !== JSON.stringify(now.repository))
    return ['the plan was made in another repository'];
  if (saved.commit !== now.commit)
    return [
      `the plan was made from commit ${saved.commit?.slice(0, 12) ?? '(none)'}, and HEAD is ${now.commit?.slice(0, 12) ?? '(none)'}: plan again`,
    ];
  const out: string[] = [];
  const stale = Object.keys({ ...saved.observed, ...now.plan.observed }).filter(
    (app) => saved.observed[app] !== now.plan.observed[app],
  );
  if (stale.length > 0)
    out.push(
      `the plan is stale: what ${stale.join(', ')} hold${stale.length === 1 ? 's' : ''} changed since it was made (or cannot be read now)`,
    );
  if (saved.desired !== now.desired) out.push('the grants it was planned from are not what that commit says');
  const mine = canonical(saved.changes);
  const theirs = new Set(canonical(now.plan.changes));
  const extra = mine.filter((c) => !theirs.has(c));
  const missing = [...theirs].filter((c) => !mine.includes(c));
  if (extra.length + missing.length > 0 && stale.length === 0) {
    const show = (c: string) =>
      (JSON.parse(c) as string[])
        .filter((x) => x !== null)
        .slice(0, 6)
        .join(' ');
    const parts = [
      ...extra.slice(0, 3).map((c) => `not asked for by the repository: ${show(c)}`),
      ...missing.slice(0, 3).map((c) => `missing: ${show(c)}`),
    ];
    out.push(
      `the plan's changes are not what planning that commit at ${saved.at} gives (${parts.join('; ')})`,
    );
  }
  return out;
}
