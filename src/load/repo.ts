import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessRepo, AppFile, FileEntry, PeopleFile, SettingsFile } from '../model/repo.js';
import { checkConnectorSettings } from '../schema/check.js';
import { loadGrantsParallel } from './grants.js';
import { resolveFinding } from './parse-yaml.js';
import { loadFile } from './read-file.js';
import { walkGrants } from './walk.js';

export class RepoNotFoundError extends Error {
  constructor(readonly root: string) {
    super(`no grants/ folder in ${root}: pass --repo with the access repository's root`);
  }
}

export interface LoadOptions {
  /** Worker threads for grant files; default: every core when there are many files. */
  threads?: number;
}

/** Reads an access repository: its layout, every file parsed and checked against its schema. */
export async function loadRepo(root: string, options: LoadOptions = {}): Promise<AccessRepo> {
  const grantsDir = join(root, 'grants');
  if (!existsSync(grantsDir) || !statSync(grantsDir).isDirectory()) throw new RepoNotFoundError(root);

  const listing = walkGrants(root);
  const diagnostics = [...listing.diagnostics];
  const grantPaths = listing.apps.flatMap((app) => app.grants);
  const grantsPromise = loadGrantsParallel(grantPaths, options.threads);
  // Awaited below; this keeps a failure from being unhandled while the other files load.
  grantsPromise.catch(() => undefined);

  const settings =
    listing.settings && entry<SettingsFile>(listing.settings.file, listing.settings.abs, 'settings');
  const people = listing.people && entry<PeopleFile>(listing.people.file, listing.people.abs, 'people');
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
    if (!folder.abs) continue;
    const app = entry<AppFile>(folder.file, folder.abs, 'app');
    if (app.value) {
      const findings = checkConnectorSettings(app.file, app.value) ?? [];
      for (const finding of findings) app.diagnostics.push(resolveFinding(app.parsed!, finding));
      if (findings.length > 0) app.value = undefined;
    }
    apps.set(folder.id, app);
  }
  for (const file of [settings, people, ...apps.values()]) if (file) diagnostics.push(...file.diagnostics);

  const grants = await grantsPromise;
  for (const grant of grants) diagnostics.push(...grant.diagnostics);
  return {
    root,
    settings: settings && strip(settings),
    people: people && strip(people),
    apps: new Map([...apps].map(([id, app]) => [id, { id, ...strip(app) }])),
    grants: grants.map(({ file, abs, folder, name, value, raw }) => ({
      file,
      abs,
      folder,
      name,
      value,
      raw,
    })),
    diagnostics,
  };
}

type Loaded<T> = FileEntry<T> & { diagnostics: AccessRepo['diagnostics'] };

function entry<T>(file: string, abs: string, kind: 'settings' | 'people' | 'app'): Loaded<T> {
  const loaded = loadFile(file, abs, kind, true);
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
