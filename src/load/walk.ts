import type { Diagnostic } from '../model/diagnostics.js';
import type { Tree, TreeEntry } from './tree.js';

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

export interface GrantPath {
  /** Path relative to the repository root, with forward slashes: the name diagnostics use. */
  file: string;
  /** Where to read it: the file itself, or a symbolic link's target inside the repository. */
  source: string;
  folder: string;
  name: string;
}

export interface AppFolder {
  id: string;
  /** grants/<id>/_app.yaml, and where to read it when present. */
  file: string;
  source: string | undefined;
  grants: GrantPath[];
}

export interface Listing {
  settings: { file: string; source: string } | undefined;
  people: { file: string; source: string } | undefined;
  apps: AppFolder[];
  diagnostics: Diagnostic[];
}

const IGNORED = new Set(['README.md', '.gitkeep', '.DS_Store']);

/** Lists grants/ as the layout says it must be, reporting whatever sits where nothing belongs. */
export function walkGrants(tree: Tree): Listing {
  const diagnostics: Diagnostic[] = [];
  const report = (file: string, code: Diagnostic['code'], message: string) =>
    diagnostics.push({ file, line: 1, column: 1, severity: 'error', code, message });
  const listing: Listing = { settings: undefined, people: undefined, apps: [], diagnostics };

  for (const entry of list(tree, 'grants', report)) {
    const rel = `grants/${entry.name}`;
    const target = resolveEntry(tree, entry, rel, report);
    if (!target) continue;
    if (target.kind === 'file') {
      if (entry.name === '_settings.yaml') listing.settings = { file: rel, source: target.path };
      else if (entry.name === '_people.yaml') listing.people = { file: rel, source: target.path };
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
    listing.apps.push(walkApp(tree, target.path, entry.name, report));
  }
  listing.apps.sort((a, b) => (a.id < b.id ? -1 : 1));
  linksUnder(tree, 'schemas', report);
  return listing;
}

/** Reports every symbolic link under a folder (schemas/: editors and people read them as iden's). */
function linksUnder(tree: Tree, dir: string, report: Reporter): void {
  if (tree.kind(dir) !== 'dir') return;
  let entries: TreeEntry[];
  try {
    entries = tree.list(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.kind === 'symlink')
      report(path, 'symlink', `a symbolic link under ${dir}/: put the file itself here`);
    else if (entry.kind === 'dir') linksUnder(tree, path, report);
  }
}

function walkApp(tree: Tree, dir: string, id: string, report: Reporter): AppFolder {
  const folder: AppFolder = { id, file: `grants/${id}/_app.yaml`, source: undefined, grants: [] };
  // Paths made flat and shared (file and source are one string when the folder is grants/<id>):
  // a template makes four linked pieces, 128 bytes a grant more at a million grants.
  const own = dir === `grants/${id}`;
  for (const entry of list(tree, dir, report, `grants/${id}`)) {
    const rel = ['grants/', id, '/', entry.name].join('');
    const path = own ? rel : [dir, '/', entry.name].join('');
    const target = resolveEntry(tree, { ...entry, path }, rel, report);
    if (!target) continue;
    if (target.kind === 'dir') {
      report(
        rel,
        'misplaced-file',
        'folders do not belong inside an app folder; grants are grants/<app>/<user>.yaml',
      );
    } else if (entry.name === '_app.yaml') {
      folder.source = target.path;
    } else if (entry.name.endsWith('.yaml')) {
      const name = entry.name.slice(0, -'.yaml'.length);
      if (ID_PATTERN.test(name)) folder.grants.push({ file: rel, source: target.path, folder: id, name });
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
  if (!folder.source) {
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

function list(tree: Tree, dir: string, report: Reporter, rel = dir): TreeEntry[] {
  try {
    return tree.list(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    report(rel, 'unreadable', `cannot read the folder: ${(e as Error).message}`);
    return [];
  }
}

function resolveEntry(
  tree: Tree,
  entry: TreeEntry & { path?: string },
  rel: string,
  report: Reporter,
): { kind: 'file' | 'dir'; path: string } | undefined {
  const path = entry.path ?? rel;
  if (entry.kind === 'file' || entry.kind === 'dir') return { kind: entry.kind, path };
  if (entry.kind !== 'symlink') {
    report(rel, 'misplaced-file', 'only regular files and folders belong in grants/');
    return undefined;
  }
  // A link could make a file say what another file, outside review, says: none is read, wherever it leads.
  const followed = tree.follow(path);
  const target = followed.ok ? followed.path : followed.target;
  report(
    rel,
    followed.ok || followed.why === 'missing' ? 'symlink' : 'symlink-outside-repo',
    `a symbolic link${target ? ` to ${target}` : ''}: iden reads no links under grants/; put the file itself here`,
  );
  return undefined;
}
