import { execFileSync } from 'node:child_process';
import { posix } from 'node:path';
import type { EntryKind, Followed, Tree, TreeEntry } from '../model/tree.js';
import { readBlobBuffers } from './blobs.js';
import { gitOut } from './run.js';

interface Entry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  id: string;
}

const MAX_HOPS = 40;
const TREE: Entry = { mode: '040000', type: 'tree', id: '' };

/**
 * One commit's files, read from git objects and never from the work tree: what
 * plan, apply and the pull-request check read, so uncommitted or
 * differently-encoded files (a `.gitattributes` filter) cannot change what
 * they see. Only `pathspecs` are listed when given (the pull-request check
 * reads a few folders of a large repository).
 */
export class CommitTree implements Tree {
  private readonly entries = new Map<string, Entry>();
  private readonly children = new Map<string, Map<string, EntryKind>>();
  private readonly links = new Map<string, Followed>();
  private readonly bytes = new Map<string, Buffer>();

  private constructor(
    readonly root: string,
    readonly commit: string,
  ) {}

  /** Lists the commit's tree (or the given paths of it) and resolves its symbolic links. */
  static async open(root: string, commit: string, pathspecs: readonly string[] = []): Promise<CommitTree> {
    const tree = new CommitTree(root, commit);
    await tree.add(pathspecs.length > 0 ? pathspecs : ['.']);
    await tree.resolveLinks();
    return tree;
  }

  /**
   * Lists only what a change to a few app folders needs: the settings, the
   * people, each app's _app.yaml, whatever else sits in grants/, and the
   * given folders of grants/ in full. The pull-request check of a
   * 100,000-file repository reads a few hundred entries, not all of them.
   * `files` adds single files (one person's grants in other folders).
   */
  static async openSome(
    root: string,
    commit: string,
    folders: readonly string[],
    files: readonly string[] = [],
  ): Promise<CommitTree> {
    const top = await gitOut(root, ['ls-tree', '-z', '--full-tree', commit, '--', 'grants/']);
    const specs = ['grants/_settings.yaml', 'grants/_people.yaml'];
    for (const record of top.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const path = record.slice(tab + 1);
      specs.push(record.slice(0, tab).split(' ')[1] === 'tree' ? `${path}/_app.yaml` : path);
    }
    for (const folder of folders) specs.push(`grants/${folder}/`);
    specs.push(...files);
    return CommitTree.open(root, commit, specs);
  }

  private async add(pathspecs: readonly string[]): Promise<void> {
    const out = await gitOut(this.root, [
      'ls-tree',
      '-r',
      '-t',
      '-z',
      '--full-tree',
      this.commit,
      '--',
      ...pathspecs,
    ]);
    for (const record of out.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const [mode = '', type = '', id = ''] = record.slice(0, tab).split(' ');
      // The usual mode and type as the one string each, not a copy per entry (a million entries).
      this.put(record.slice(tab + 1), {
        mode: mode === '100644' ? '100644' : mode,
        type: type === 'blob' ? 'blob' : (type as Entry['type']),
        id,
      });
    }
  }

  private put(path: string, entry: Entry): void {
    if (this.entries.has(path)) return;
    this.entries.set(path, entry);
    // Every folder on the way is known to exist, listed or not.
    let child = path;
    for (;;) {
      const parent = posix.dirname(child);
      const dir = parent === '.' ? '' : parent;
      const list = this.children.get(dir) ?? new Map<string, EntryKind>();
      this.children.set(dir, list);
      list.set(posix.basename(child), kindOf(this.entries.get(child) ?? TREE));
      if (dir === '' || this.entries.has(dir)) break;
      this.entries.set(dir, TREE);
      child = dir;
    }
  }

  private async lookUp(path: string): Promise<Entry | undefined> {
    if (!this.entries.has(path)) await this.add([path]);
    return this.entries.get(path);
  }

  /** A link's target is the content of its blob; chains are followed, never out of the repository. */
  private async resolveLinks(): Promise<void> {
    const links = [...this.entries].filter(([, e]) => e.mode === '120000').map(([path]) => path);
    for (const link of links) {
      let path = link;
      let result: Followed | undefined;
      for (let hop = 0; hop < MAX_HOPS && !result; hop++) {
        const entry = this.entries.get(path)!;
        const target = (await readBlobBuffers(this.root, [entry.id])).get(entry.id)?.toString('utf8') ?? '';
        const next = posix.normalize(posix.join(posix.dirname(path), target));
        if (posix.isAbsolute(target) || next === '..' || next.startsWith('../') || next === '.') {
          result = { ok: false, why: 'outside', target };
          break;
        }
        const found = await this.lookUp(next);
        if (!found || found.type === 'commit') result = { ok: false, why: 'missing', target };
        else if (found.mode === '120000') path = next;
        else {
          if (found.type === 'tree') await this.add([`${next}/`]);
          result = { ok: true, kind: found.type === 'tree' ? 'dir' : 'file', path: next };
        }
      }
      this.links.set(link, result ?? { ok: false, why: 'missing', target: link });
    }
  }

  kind(path: string): EntryKind | undefined {
    const entry = this.entries.get(path);
    return entry && kindOf(entry);
  }

  list(path: string): TreeEntry[] {
    const entry = path === '' ? undefined : this.entries.get(path);
    if (path !== '' && entry?.type !== 'tree') throw new Error(`${path} is not a folder in ${this.commit}`);
    return [...(this.children.get(path) ?? [])].map(([name, kind]) => ({ name, kind }));
  }

  follow(path: string): Followed {
    return this.links.get(path) ?? { ok: false, why: 'missing', target: path };
  }

  blobId(path: string): string | undefined {
    const entry = this.entries.get(path);
    return entry?.type === 'blob' ? entry.id : undefined;
  }

  async prefetch(paths: readonly string[]): Promise<void> {
    const ids = paths.flatMap((p) => {
      const id = this.blobId(p);
      return id && !this.bytes.has(id) ? [id] : [];
    });
    for (const [id, buffer] of await readBlobBuffers(this.root, ids)) this.bytes.set(id, buffer);
  }

  release(paths: readonly string[]): void {
    for (const p of paths) {
      const id = this.blobId(p);
      if (id) this.bytes.delete(id);
    }
  }

  read(path: string, limit: number): Uint8Array {
    const id = this.blobId(path);
    if (!id) throw new Error(`${path} is not a file in ${this.commit.slice(0, 12)}`);
    // Released after its slice was parsed, and wanted again (to place a finding on its line): read it alone.
    const buffer =
      this.bytes.get(id) ??
      execFileSync('git', ['cat-file', 'blob', id], { cwd: this.root, maxBuffer: 1 << 28 });
    return buffer.subarray(0, limit + 1);
  }
}

function kindOf(entry: Entry): EntryKind {
  if (entry.mode === '120000') return 'symlink';
  if (entry.type === 'tree') return 'dir';
  if (entry.type === 'blob') return 'file';
  return 'other';
}

/** Every path under a folder of a commit (files only, recursively), read NUL-separated. */
export async function listPaths(root: string, commit: string, folder: string): Promise<string[]> {
  const out = await gitOut(root, ['ls-tree', '-r', '-z', '--name-only', commit, '--', folder]);
  return out.split('\0').filter(Boolean);
}
