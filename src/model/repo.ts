import type { Diagnostic } from './diagnostics.js';
import type { AppFile, GrantFile, PeopleFile, SettingsFile } from './files.generated.js';
import type { ParsedYaml } from './parsed-yaml.js';
import type { Tree } from './tree.js';

export type { AppFile, GrantFile, PeopleFile, SettingsFile };
export type Person = PeopleFile['people'][number];
export type Entitlement = AppFile['entitlements'][number];
export type License = NonNullable<AppFile['licenses']>[number];

export interface FileEntry<T> {
  file: string;
  /** Where the tree holds it (a symbolic link's target), to read it again. */
  source?: string | undefined;
  /** Present when the file parsed and passed its schema. */
  value: T | undefined;
  /** The parsed mapping, schema-valid or not: rules read it defensively so one run reports every problem. */
  raw: Record<string, unknown> | undefined;
  /** The parsed document, to place findings made later. */
  parsed: ParsedYaml | undefined;
}

export interface AppEntry extends FileEntry<AppFile> {
  id: string;
}

export interface GrantEntry {
  file: string;
  /** Where the file was read from: itself, or a symlink's target inside the repository. */
  source: string;
  /** The app folder and the file name without .yaml. */
  folder: string;
  name: string;
  value: GrantFile | undefined;
  raw: Record<string, unknown> | undefined;
}

/** Everything read from an access repository, with the problems found while reading. */
export interface AccessRepo {
  root: string;
  /** What the files were read from: the work tree, or a commit. */
  tree: Tree;
  settings: FileEntry<SettingsFile> | undefined;
  people: FileEntry<PeopleFile> | undefined;
  apps: Map<string, AppEntry>;
  grants: GrantEntry[];
  /** Problems found while reading, parsing and checking schemas. */
  diagnostics: Diagnostic[];
}

/** The directory's people by id (the schema-valid directory; empty when it does not validate). */
export function peopleById(repo: Pick<AccessRepo, 'people'>): Map<string, Person> {
  return new Map((repo.people?.value?.people ?? []).map((p) => [p.id, p]));
}
