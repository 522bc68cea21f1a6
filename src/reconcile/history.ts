import { parse } from 'yaml';
import { readBlobs } from '../git/blobs.js';
import { notedCommits } from '../git/notes.js';
import { fastYaml } from '../load/fast-yaml.js';
import { type AccountRule, accountFor } from '../model/accounts.js';
import type { AppFile, Person } from '../model/repo.js';
import { GRANT_PATH } from '../policy/classify.js';
import type { BranchLog, Version } from './branch.js';
import type { GrantHistory } from './plan.js';

/**
 * What the run knows of the branch's past: its first-parent history (read
 * once, by the caller) and the commits earlier runs recorded they applied.
 * Every history-derived decision reads only these: a version that lived only
 * in a pull request's intermediate commit, or was never applied, decides
 * nothing.
 */
export interface Past {
  branch: BranchLog;
  /** First-parent positions of the commits apply records name. */
  applied: number[];
}

export async function readPast(root: string, branch: BranchLog): Promise<Past> {
  const applied = new Set<number>();
  // A note is there only for a commit a run reconciled and recorded: which commits is all this needs.
  for (const commit of await notedCommits(root)) {
    const position = branch.positions.get(commit);
    if (position !== undefined) applied.add(position);
  }
  return { branch, applied: [...applied].sort((a, b) => a - b) };
}

/** The blobs a path held on the branch, newest first. */
function versions(past: Past, path: string): Version[] {
  return (past.branch.versions.get(path) ?? []).slice().reverse();
}

/** Grant files the branch held and then deleted, and those it held in more than one version. */
export function grantPaths(past: Past): { deleted: Set<string>; changed: Set<string> } {
  const changed = new Set<string>();
  for (const [path, list] of past.branch.versions)
    if (list.length > 1 && GRANT_PATH.test(path)) changed.add(path);
  return { deleted: past.branch.deleted, changed };
}

const PEOPLE_VERSIONS_AT_ONCE = 8;

/**
 * The accounts whose grant files the branch deleted, for each app: the
 * account the person had, read from today's directory or, for someone who
 * left it in the same change, from the last version of _people.yaml on the
 * branch that named them. Their leftover access is `removed`, whatever prune says.
 */
export async function removedAccounts(
  root: string,
  past: Past,
  deleted: { app: string; user: string; rule: AccountRule | undefined }[],
  people: readonly Person[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const add = (app: string, account: string | undefined) => {
    if (account === undefined) return;
    const set = out.get(app) ?? new Set<string>();
    out.set(app, set);
    set.add(account);
  };
  const byId = new Map(people.map((p) => [p.id, p]));
  const missing = deleted.filter((d) => !byId.has(d.user));
  for (const d of deleted) add(d.app, accountFor(byId.get(d.user) ?? { id: d.user }, d.app, d.rule));
  if (missing.length === 0) return out;
  const wanted = new Set(missing.map((m) => m.user));
  const found = new Map<string, Person>();
  // Newest first, a few versions at a time: a directory of many people is large, and the latest versions name most.
  const list = versions(past, 'grants/_people.yaml');
  for (let i = 0; i < list.length && found.size < wanted.size; i += PEOPLE_VERSIONS_AT_ONCE) {
    const chunk = list.slice(i, i + PEOPLE_VERSIONS_AT_ONCE);
    const blobs = await readBlobs(
      root,
      chunk.map((v) => v.blob),
    );
    for (const { blob } of chunk) {
      for (const entry of listOf(parsed(blobs.get(blob))?.people)) {
        const person = entry as Person;
        if (typeof person?.id === 'string' && wanted.has(person.id) && !found.has(person.id))
          found.set(person.id, person);
      }
      if (found.size === wanted.size) break;
    }
  }
  for (const d of missing) {
    const person = found.get(d.user);
    if (person) add(d.app, accountFor(person, d.app, d.rule));
  }
  return out;
}

/** Fields of an entitlement or tier that say what it is, not how it maps onto the app. */
const DESCRIPTIVE = new Set(['id', 'kind', 'description', 'seats']);

function mappingKey(item: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(item)
      .filter((k) => !DESCRIPTIVE.has(k))
      .sort()
      .map((k) => [k, item[k]]),
  );
}

export interface Retired {
  /** The id a retired mapping is observed under: its old id, marked so it can match nothing declared. */
  id: string;
  kind: 'entitlement' | 'license';
  item: Record<string, unknown>;
}

/**
 * Mappings each app declared, with the same connector settings, in a version
 * a recorded run applied, that its _app.yaml no longer declares: their
 * holders are revoked as `retired`, so removing an entitlement or tier, or
 * changing where one maps, never leaves people with access no grant gives.
 * Only applied versions count: a mapping that lived only in an intermediate
 * commit, or was never applied, managed nothing and retires nothing. Every
 * app's versions are read in one go.
 */
export async function retiredMappings(
  root: string,
  past: Past,
  apps: ReadonlyMap<string, AppFile>,
  /** Blobs read before, by id, kept by a long-lived caller; what this reads is added. */
  known?: Map<string, string>,
): Promise<Map<string, Retired[]>> {
  const inForce = new Map<string, { all: Version[]; applied: Set<string> }>();
  for (const app of apps.keys()) {
    const all = versions(past, `grants/${app}/_app.yaml`);
    // The version in force at each applied commit: the newest that came in at or before it.
    const applied = new Set<string>();
    for (const position of past.applied) {
      const version = all.find((v) => v.position <= position);
      if (version) applied.add(version.blob);
    }
    inForce.set(app, { all, applied });
  }
  const blobs = await blobsOf(
    root,
    [...inForce.values()].flatMap((v) => [...v.applied]),
    known,
  );
  const out = new Map<string, Retired[]>();
  for (const [app, current] of apps) {
    const { all, applied } = inForce.get(app)!;
    out.set(app, retiredOf(current, all, applied, blobs));
  }
  return out;
}

function retiredOf(
  current: AppFile,
  all: Version[],
  applied: Set<string>,
  blobs: Map<string, string>,
): Retired[] {
  if (applied.size === 0) return [];
  const declared = new Set(
    [...current.entitlements, ...(current.licenses ?? [])].map((i) =>
      mappingKey(i as Record<string, unknown>),
    ),
  );
  const connector = JSON.stringify(current.connector);
  const retired = new Map<string, Retired>();
  for (const { blob } of all) {
    if (!applied.has(blob)) continue;
    const version = parsed(blobs.get(blob)) as Partial<AppFile> | undefined;
    if (!version || JSON.stringify(version.connector) !== connector) continue;
    for (const [kind, items] of [
      ['entitlement', version.entitlements],
      ['license', version.licenses],
    ] as const) {
      for (const item of listOf(items) as Record<string, unknown>[]) {
        if (!item || typeof item !== 'object' || typeof item.id !== 'string') continue;
        const key = mappingKey(item);
        if (declared.has(key) || retired.has(key)) continue;
        retired.set(key, {
          id: `${item.id}@retired${retired.size > 0 ? `-${retired.size + 1}` : ''}`,
          kind,
          item,
        });
      }
    }
  }
  return [...retired.values()];
}

/**
 * For grant files with earlier versions on the branch: what the version
 * before the current one gave (undefined when the file is new) and what any
 * earlier version gave, as targets (`e:<entitlement>`, `l:<tier>`).
 */
export async function grantHistories(
  root: string,
  past: Past,
  files: readonly string[],
  /** Blobs read before, by id, kept by a long-lived caller; what this reads is added. */
  known?: Map<string, string>,
): Promise<Map<string, GrantHistory>> {
  const byFile = new Map(files.map((f) => [f, versions(past, f).map((v) => v.blob)]));
  const blobs = await blobsOf(
    root,
    [...byFile.values()].flatMap((v) => v.slice(1)),
    known,
  );
  const targets = (blob: string): Set<string> => {
    const text = blobs.get(blob);
    const value = (text === undefined ? undefined : (fastYaml(text) ?? parsed(text))) as
      | { permissions?: unknown; license?: unknown }
      | undefined;
    const out = new Set<string>();
    for (const p of listOf(value?.permissions)) if (typeof p === 'string') out.add(`e:${p}`);
    if (typeof value?.license === 'string') out.add(`l:${value.license}`);
    return out;
  };
  const out = new Map<string, GrantHistory>();
  for (const [file, list] of byFile) {
    if (list.length === 0) continue;
    // Newest first: the first is the current version.
    const earlier = list.slice(1).map(targets);
    out.set(file, { previous: earlier[0], ever: new Set(earlier.flatMap((s) => [...s])) });
  }
  return out;
}

/** readBlobs, reading only what `known` lacks (a blob's content never changes) and adding it there. */
async function blobsOf(
  root: string,
  ids: readonly string[],
  known: Map<string, string> | undefined,
): Promise<Map<string, string>> {
  if (!known) return readBlobs(root, ids);
  const read = await readBlobs(
    root,
    ids.filter((id) => !known.has(id)),
  );
  for (const [id, text] of read) known.set(id, text);
  // Kept within bounds: a long-lived caller reads few blobs a run.
  while (known.size > 50_000) known.delete(known.keys().next().value!);
  return new Map(ids.flatMap((id) => (known.has(id) ? [[id, known.get(id)!] as [string, string]] : [])));
}

function parsed(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Of these grant files, those an earlier version on the branch marked `emergency: true`. */
export async function onceEmergency(
  root: string,
  past: Past,
  files: readonly string[],
): Promise<Set<string>> {
  const byFile = new Map(files.map((f) => [f, versions(past, f).map((v) => v.blob)]));
  const blobs = await readBlobs(
    root,
    [...byFile.values()].flatMap((v) => v.slice(1)),
  );
  const out = new Set<string>();
  for (const [file, list] of byFile)
    for (const blob of list.slice(1)) {
      const text = blobs.get(blob);
      const value = (text === undefined ? undefined : (fastYaml(text) ?? parsed(text))) as
        | { emergency?: unknown }
        | undefined;
      if (value?.emergency === true) {
        out.add(file);
        break;
      }
    }
  return out;
}
