import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { AccessRepo, AppEntry, AppFile, FileEntry, PeopleFile, SettingsFile } from '../model/repo.js';
import { checkConnectorSettings, type FileKind } from '../schema/check.js';
import { boundHeapFor } from '../util/heap.js';
import { type CachedGrant, contentHash, fromCached, ParseCache } from './cache.js';
import { loadGrantsParallel, PARALLEL_THRESHOLD } from './grants.js';
import { resolveFinding } from './parse-yaml.js';
import { type LoadedFile, loadBytes, loadFile, readBytes } from './read-file.js';
import { type Tree, WorkTree } from './tree.js';
import { type GrantPath, walkGrants } from './walk.js';

export class RepoNotFoundError extends UsageError {
  constructor(readonly root: string) {
    super(`no grants/ folder in ${root}: pass --repo with the access repository's root`);
  }
}

export interface LoadOptions {
  /** Worker threads for grant files; default: every core when there are many files. */
  threads?: number;
  /** Files already read from another commit, by blob id: base and head of a pull request share most of theirs. */
  memo?: Map<string, LoadedFile>;
  /** Only the grant files this accepts, asked once settings, people and apps are read; default: every one. */
  grants?: (grant: GrantPath, apps: ReadonlyMap<string, AppEntry>) => boolean;
  /** false: the apps' files are not read (a command that needs the settings and people only, such as audit). */
  apps?: boolean;
  /** false: the directory of people is not read either. */
  people?: boolean;
  /**
   * false: no file keeps its YAML document (nothing read will be placed on a
   * line later, as in the audit), so settings and apps of the flat shape that
   * pass their schema are read without composing one.
   */
  documents?: boolean;
}

/** Reads the access repository in a work tree, as it is on disk. */
export async function loadRepo(root: string, options: LoadOptions = {}): Promise<AccessRepo> {
  const grantsDir = join(root, 'grants');
  if (!existsSync(grantsDir) || !statSync(grantsDir).isDirectory()) throw new RepoNotFoundError(root);
  return loadTree(new WorkTree(root), options);
}

/** Reads an access repository from a tree (a work tree or a commit): its layout, every file parsed and checked against its schema. */
export async function loadTree(tree: Tree, options: LoadOptions = {}): Promise<AccessRepo> {
  if (tree.kind('grants') !== 'dir') throw new RepoNotFoundError(tree.root);
  const listing = walkGrants(tree);
  const diagnostics = [...listing.diagnostics];
  await tree.prefetch(
    [listing.settings?.source, listing.people?.source, ...listing.apps.map((a) => a.source)].filter(
      (p): p is string => p !== undefined,
    ),
  );
  const all = listing.apps.flatMap((app) => app.grants);
  boundHeapFor(all.length);
  // A large work tree keeps a parse cache under .iden/ (cache.ts).
  const cache =
    tree instanceof WorkTree && all.length >= PARALLEL_THRESHOLD
      ? await ParseCache.open(tree.root)
      : undefined;
  const keep = options.documents === false ? () => false : keepsDocument;
  const settings =
    listing.settings &&
    entry<SettingsFile>(
      tree,
      listing.settings.file,
      listing.settings.source,
      'settings',
      undefined,
      options.memo,
      false,
      keep,
    );
  const people =
    listing.people && options.people !== false
      ? entry<PeopleFile>(tree, listing.people.file, listing.people.source, 'people', cache, options.memo)
      : undefined;
  if (!listing.people) {
    diagnostics.push({
      file: 'grants/_people.yaml',
      line: 1,
      column: 1,
      severity: 'error',
      code: 'missing-people-file',
      message: 'grants/_people.yaml is missing; it lists the people grants name',
    });
  }
  const apps = new Map<string, Loaded<AppFile>>();
  for (const folder of listing.apps) {
    if (!folder.source || options.apps === false) continue;
    let app = entry<AppFile>(tree, folder.file, folder.source, 'app', cache, options.memo, false, keep);
    if (app.value) {
      const findings = checkConnectorSettings(app.file, app.value) ?? [];
      // From the cache or the fast reader the file has no document to place them on: read it in full.
      if (findings.length > 0 && !app.parsed)
        app = entry<AppFile>(tree, folder.file, folder.source, 'app', undefined, undefined, true);
      for (const finding of findings) app.diagnostics.push(resolveFinding(app.parsed!, finding));
      if (findings.length > 0) app.value = undefined;
    }
    apps.set(folder.id, app);
  }
  for (const file of [settings, people, ...apps.values()]) if (file) diagnostics.push(...file.diagnostics);
  const appEntries = new Map([...apps].map(([id, app]) => [id, { id, ...strip(app) }]));

  const select = options.grants;
  const grantPaths = select ? all.filter((g) => select(g, appEntries)) : all;
  const grants = await loadGrantsParallel(tree, grantPaths, options.threads, cache);
  const strings = new Map<string, string>();
  cache?.save();
  for (const grant of grants) diagnostics.push(...grant.diagnostics);
  return {
    root: tree.root,
    tree,
    settings: settings && strip(settings),
    people: people && strip(people),
    apps: appEntries,
    grants: grants.map(({ file, source, folder, name, value, raw }) => ({
      file,
      source,
      folder,
      name,
      value,
      raw: raw && shared(raw, name, folder, strings),
    })),
    diagnostics,
  };
}

type Loaded<T> = FileEntry<T> & { diagnostics: AccessRepo['diagnostics'] };

function entry<T>(
  tree: Tree,
  file: string,
  source: string,
  kind: 'settings' | 'people' | 'app',
  cache?: ParseCache,
  memo?: Map<string, LoadedFile>,
  document = false,
  keep: (kind: FileKind) => boolean = keepsDocument,
): Loaded<T> {
  if (document) return asEntry<T>(file, source, loadFile(file, tree, source, kind, true, false));
  if (cache) return cachedEntry<T>(tree, file, source, kind, cache);
  const id = memo && tree.blobId(source);
  const key = id && `${kind}\u0000${file}\u0000${id}\u0000${keep(kind)}`;
  let loaded = key ? memo?.get(key) : undefined;
  if (!loaded) {
    loaded = loadFile(file, tree, source, kind, keep(kind), true);
    if (key) memo?.set(key, { ...loaded, diagnostics: [...loaded.diagnostics] });
  } else loaded = { ...loaded, diagnostics: [...loaded.diagnostics] };
  return asEntry<T>(file, source, loaded);
}

/**
 * A file through the parse cache: 10,000 people are a second of YAML. Taken
 * from the cache it has no document; a finding in it is placed by parsing it
 * again (placeFindings), as for grant files.
 */
function cachedEntry<T>(
  tree: Tree,
  file: string,
  source: string,
  kind: FileKind,
  cache: ParseCache,
): Loaded<T> {
  const fromCache = (hit: CachedGrant): Loaded<T> => {
    const { valid, raw, diagnostics } = fromCached(hit);
    return { file, source, value: valid ? (raw as T) : undefined, raw, parsed: undefined, diagnostics };
  };
  const vouched = cache.hit(file, cache.vouchedId(file, source));
  if (vouched) return fromCache(vouched);
  const bytes = readBytes(tree, source, kind);
  const id = bytes instanceof Error ? null : contentHash(bytes);
  const read = cache.hit(file, id);
  if (read) return fromCache(read);
  const loaded = loadBytes(file, bytes, kind, keepsDocument(kind), true);
  cache.put(file, id, loaded);
  return asEntry<T>(file, source, loaded);
}

function asEntry<T>(file: string, source: string, loaded: LoadedFile): Loaded<T> {
  return {
    file,
    source,
    value: loaded.value as T | undefined,
    raw: loaded.raw,
    parsed: loaded.parsed,
    diagnostics: loaded.diagnostics,
  };
}

/**
 * Settings and apps keep their parsed documents to place later findings when
 * YAML composed one (a file the fast reader took has none, and is read again
 * for a finding, as is one from the parse cache); the directory of people is
 * read again for that when needed (it is rarely wrong, and 10,000 people are
 * a large document to keep).
 */
const keepsDocument = (kind: FileKind) => kind !== 'people';

function strip<T>({ file, source, value, raw, parsed }: Loaded<T>): FileEntry<T> {
  return { file, source, value, raw, parsed };
}

/** Fields whose equal values are made one string across the repository. */
const SHARED = new Set(['license', 'start', 'end']);

/**
 * A grant's value with its ids as one string each across the repository: the user
 * is the file's name, the app its folder's, and permissions, tiers and dates are
 * shared (at a million grants each copy is a million strings; equal strings only).
 * A longer text of its own (a reason) is cut from the file's text and would keep
 * all of it alive: it is copied.
 */
function shared(raw: Record<string, unknown>, name: string, folder: string, strings: Map<string, string>) {
  const one = (s: string) => {
    const known = strings.get(s);
    if (known !== undefined) return known;
    strings.set(s, s);
    return s;
  };
  for (const key in raw) {
    const v = raw[key];
    if (key === 'permissions' && Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'string') v[i] = one(v[i] as string);
    }
    if (typeof v !== 'string') continue;
    if (key === 'user') raw.user = v === name ? name : v;
    else if (key === 'app') raw.app = v === folder ? folder : v;
    else if (SHARED.has(key)) raw[key] = one(v);
    else if (v.length >= 13) raw[key] = JSON.parse(JSON.stringify(v)) as string;
  }
  return raw;
}
