import { simpleGit } from 'simple-git';
import { parse } from 'yaml';
import { readBlobs } from '../git/blobs.js';
import { pastVersions } from '../git/past.js';
import { type AccountRule, accountFor } from '../model/accounts.js';
import type { AppFile, Person } from '../model/repo.js';
import type { GrantHistory } from './plan.js';

/**
 * The accounts whose grant files git says were deleted, for each app: the
 * account the person had, read from today's directory or, for someone who
 * left it in the same change, from the last version of _people.yaml that
 * named them. Their leftover access is `removed`, whatever prune says.
 */
export async function removedAccounts(
  root: string,
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
  for (const { value } of await pastVersions(root, 'grants/_people.yaml')) {
    const list = (value as { people?: unknown })?.people;
    for (const entry of Array.isArray(list) ? list : []) {
      const person = entry as Person;
      if (typeof person?.id === 'string' && wanted.has(person.id) && !found.has(person.id))
        found.set(person.id, person);
    }
    if (found.size === wanted.size) break;
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
 * Mappings an app's history declared (for the same connector settings) that
 * its _app.yaml no longer declares: their holders are revoked as `retired`,
 * so removing an entitlement, a tier, or changing where one maps never leaves
 * people with access no grant gives.
 */
export async function retiredMappings(root: string, app: string, current: AppFile): Promise<Retired[]> {
  const declared = new Set(
    [...current.entitlements, ...(current.licenses ?? [])].map((i) =>
      mappingKey(i as Record<string, unknown>),
    ),
  );
  const connector = JSON.stringify(current.connector);
  const retired = new Map<string, Retired>();
  for (const { value } of await pastVersions(root, `grants/${app}/_app.yaml`)) {
    const past = value as Partial<AppFile> | undefined;
    if (!past || JSON.stringify(past.connector) !== connector) continue;
    for (const [kind, items] of [
      ['entitlement', past.entitlements],
      ['license', past.licenses],
    ] as const) {
      for (const item of Array.isArray(items) ? (items as Record<string, unknown>[]) : []) {
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
 * For grant files with earlier versions: what the version before the current
 * one gave (undefined when the file is new) and what any earlier version
 * gave, as targets (`e:<entitlement>`, `l:<tier>`). Read in batches of paths
 * through `git log`, each version's blob parsed once.
 */
export async function grantHistories(
  root: string,
  files: readonly string[],
): Promise<Map<string, GrantHistory>> {
  const out = new Map<string, GrantHistory>();
  const git = simpleGit({ baseDir: root });
  const versions = new Map<string, string[]>();
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const log = await git.raw([
      'log',
      '--format=',
      '--raw',
      '-z',
      '--no-abbrev',
      '--no-renames',
      'HEAD',
      '--',
      ...batch,
    ]);
    const fields = log.split('\0').filter(Boolean);
    for (let j = 0; j + 1 < fields.length; j += 2) {
      const meta = fields[j]!.trim();
      const path = fields[j + 1]!;
      const blob = meta.split(' ')[3];
      if (!blob || /^0+$/.test(blob)) continue;
      versions.set(path, [...(versions.get(path) ?? []), blob]);
    }
  }
  const blobs = await readBlobs(
    root,
    [...versions.values()].flatMap((v) => v.slice(1)),
  );
  const targets = (blob: string): Set<string> => {
    try {
      const value = parse(blobs.get(blob) ?? '') as { permissions?: unknown; license?: unknown };
      const out = new Set<string>();
      for (const p of Array.isArray(value?.permissions) ? value.permissions : [])
        if (typeof p === 'string') out.add(`e:${p}`);
      if (typeof value?.license === 'string') out.add(`l:${value.license}`);
      return out;
    } catch {
      return new Set();
    }
  };
  for (const [path, list] of versions) {
    // Newest first: the first is HEAD's own version.
    const earlier = list.slice(1).map(targets);
    out.set(path, { previous: earlier[0], ever: new Set(earlier.flatMap((s) => [...s])) });
  }
  return out;
}
