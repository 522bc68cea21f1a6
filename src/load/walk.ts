import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

export interface GrantPath {
  /** Path relative to the repository root, with forward slashes: the name diagnostics use. */
  file: string;
  /** Where to read it (a symlink's target inside the repository). */
  abs: string;
  folder: string;
  name: string;
}

export interface AppFolder {
  id: string;
  /** grants/<id>/_app.yaml relative, and its absolute path when present. */
  file: string;
  abs: string | undefined;
  grants: GrantPath[];
}

export interface Listing {
  settings: { file: string; abs: string } | undefined;
  people: { file: string; abs: string } | undefined;
  apps: AppFolder[];
  diagnostics: Diagnostic[];
}

const IGNORED = new Set(['README.md', '.gitkeep', '.DS_Store']);

/** Lists grants/ as the layout says it must be, reporting whatever sits where nothing belongs. */
export function walkGrants(root: string): Listing {
  const realRoot = realpathSync(root);
  const diagnostics: Diagnostic[] = [];
  const report = (file: string, code: Diagnostic['code'], message: string) =>
    diagnostics.push({ file, line: 1, column: 1, severity: 'error', code, message });
  const listing: Listing = { settings: undefined, people: undefined, apps: [], diagnostics };
  const grantsDir = join(root, 'grants');

  for (const entry of list(grantsDir, 'grants', report)) {
    const rel = `grants/${entry.name}`;
    const target = resolveEntry(realRoot, join(grantsDir, entry.name), entry, rel, report);
    if (!target) continue;
    if (target.kind === 'file') {
      if (entry.name === '_settings.yaml') listing.settings = { file: rel, abs: target.abs };
      else if (entry.name === '_people.yaml') listing.people = { file: rel, abs: target.abs };
      else if (!IGNORED.has(entry.name)) {
        report(
          rel,
          'misplaced-file',
          'only _settings.yaml, _people.yaml and app folders belong directly in grants/',
        );
      }
      continue;
    }
    if (!ID_PATTERN.test(entry.name)) {
      report(
        rel,
        'bad-file-name',
        `app folder "${entry.name}" is not an id (lowercase letters, digits, '.', '_', '-')`,
      );
      continue;
    }
    listing.apps.push(walkApp(realRoot, target.abs, entry.name, report));
  }
  listing.apps.sort((a, b) => (a.id < b.id ? -1 : 1));
  return listing;
}

function walkApp(realRoot: string, dir: string, id: string, report: Reporter): AppFolder {
  const folder: AppFolder = { id, file: `grants/${id}/_app.yaml`, abs: undefined, grants: [] };
  for (const entry of list(dir, `grants/${id}`, report)) {
    const rel = `grants/${id}/${entry.name}`;
    const target = resolveEntry(realRoot, join(dir, entry.name), entry, rel, report);
    if (!target) continue;
    if (target.kind === 'dir') {
      report(
        rel,
        'misplaced-file',
        'folders do not belong inside an app folder; grants are grants/<app>/<user>.yaml',
      );
    } else if (entry.name === '_app.yaml') {
      folder.abs = target.abs;
    } else if (entry.name.endsWith('.yaml')) {
      const name = entry.name.slice(0, -'.yaml'.length);
      if (ID_PATTERN.test(name)) folder.grants.push({ file: rel, abs: target.abs, folder: id, name });
      else
        report(
          rel,
          'bad-file-name',
          `grant file name "${entry.name}" must be <person id>.yaml, with a lowercase id`,
        );
    } else if (entry.name.endsWith('.yml')) {
      report(
        rel,
        'bad-file-name',
        `grant files end in .yaml, not .yml: rename to ${entry.name.slice(0, -4)}.yaml`,
      );
    } else if (!IGNORED.has(entry.name)) {
      report(rel, 'misplaced-file', 'only _app.yaml and <user>.yaml files belong in an app folder');
    }
  }
  if (!folder.abs) {
    report(
      `grants/${id}`,
      'missing-app-file',
      `app folder "${id}" has no _app.yaml describing the connected app`,
    );
  }
  folder.grants.sort((a, b) => (a.name < b.name ? -1 : 1));
  return folder;
}

type Reporter = (file: string, code: Diagnostic['code'], message: string) => void;

function list(dir: string, rel: string, report: Reporter): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    report(rel, 'unreadable', `cannot read the folder: ${(e as Error).message}`);
    return [];
  }
}

function resolveEntry(
  realRoot: string,
  path: string,
  entry: Dirent,
  rel: string,
  report: Reporter,
): { kind: 'file' | 'dir'; abs: string } | undefined {
  if (entry.isFile()) return { kind: 'file', abs: path };
  if (entry.isDirectory()) return { kind: 'dir', abs: path };
  if (!entry.isSymbolicLink()) {
    report(rel, 'misplaced-file', 'only regular files and folders belong in grants/');
    return undefined;
  }
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    report(rel, 'unreadable', 'a symbolic link whose target does not exist');
    return undefined;
  }
  const inside = relative(realRoot, real);
  if (
    inside.startsWith('..') ||
    inside === '' ||
    inside.split(sep)[0] === '..' ||
    /^[a-zA-Z]:/.test(inside)
  ) {
    report(
      rel,
      'symlink-outside-repo',
      `a symbolic link to ${real}, outside the repository; copy the file in instead`,
    );
    return undefined;
  }
  return { kind: statSync(real).isDirectory() ? 'dir' : 'file', abs: real };
}
