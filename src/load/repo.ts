import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessRepo, AppEntry, AppFile, FileEntry, PeopleFile, SettingsFile } from '../model/repo.js';
import { checkConnectorSettings } from '../schema/check.js';
import { loadGrantsParallel } from './grants.js';
import { resolveFinding } from './parse-yaml.js';
import { loadFile } from './read-file.js';
import { type Tree, WorkTree } from './tree.js';
import { type GrantPath, walkGrants } from './walk.js';

export class RepoNotFoundError extends Error {
  constructor(readonly root: string) {
    super(`no grants/ folder in ${root}: pass --repo with the access repository's root`);
  }
}

export interface LoadOptions {
  /** Worker threads for grant files; default: every core when there are many files. */
  threads?: number;
  /** Only the grant files this accepts, asked once settings, people and apps are read; default: every one. */
  grants?: (grant: GrantPath, apps: ReadonlyMap<string, AppEntry>) => boolean;
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
  const settings =
    listing.settings && entry<SettingsFile>(tree, listing.settings.file, listing.settings.source, 'settings');
  const people =
    listing.people && entry<PeopleFile>(tree, listing.people.file, listing.people.source, 'people');
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
    if (!folder.source) continue;
    const app = entry<AppFile>(tree, folder.file, folder.source, 'app');
    if (app.value) {
      const findings = checkConnectorSettings(app.file, app.value) ?? [];
      for (const finding of findings) app.diagnostics.push(resolveFinding(app.parsed!, finding));
      if (findings.length > 0) app.value = undefined;
    }
    apps.set(folder.id, app);
  }
  for (const file of [settings, people, ...apps.values()]) if (file) diagnostics.push(...file.diagnostics);
  const appEntries = new Map([...apps].map(([id, app]) => [id, { id, ...strip(app) }]));

  const all = listing.apps.flatMap((app) => app.grants);
  const select = options.grants;
  const grantPaths = select ? all.filter((g) => select(g, appEntries)) : all;
  const grants = await loadGrantsParallel(tree, grantPaths, options.threads);
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
      raw,
    })),
    diagnostics,
  };
}

type Loaded<T> = FileEntry<T> & { diagnostics: AccessRepo['diagnostics'] };

function entry<T>(tree: Tree, file: string, source: string, kind: 'settings' | 'people' | 'app'): Loaded<T> {
  const loaded = loadFile(file, tree, source, kind, true);
  return {
    file,
    value: loaded.value as T | undefined,
    raw: loaded.raw,
    parsed: loaded.parsed,
    diagnostics: loaded.diagnostics,
  };
}

function strip<T>({ file, value, raw, parsed }: Loaded<T>): FileEntry<T> {
  return { file, value, raw, parsed };
}
