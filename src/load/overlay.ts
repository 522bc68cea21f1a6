import { posix } from 'node:path';
import type { EntryKind, Followed, Tree, TreeEntry } from './tree.js';

/**
 * A tree with some files replaced, added or deleted in memory: what the
 * repository would be after a change, read and validated before anything
 * touches the disk or git. Added files go into folders the tree already has.
 */
export class OverlayTree implements Tree {
  readonly root: string;
  readonly commit: string | undefined;

  /** `changes` maps a path to its new content, or null to delete it. */
  constructor(
    private readonly base: Tree,
    private readonly changes: ReadonlyMap<string, string | null>,
  ) {
    this.root = base.root;
    this.commit = base.commit;
  }

  kind(path: string): EntryKind | undefined {
    const change = this.changes.get(path);
    if (change === null) return undefined;
    if (change !== undefined) return 'file';
    return this.base.kind(path);
  }

  list(path: string): TreeEntry[] {
    const entries = this.base.list(path).filter((e) => this.changes.get(join(path, e.name)) !== null);
    for (const [file, content] of this.changes) {
      if (content === null || posix.dirname(file) !== (path === '' ? '.' : path)) continue;
      const name = posix.basename(file);
      if (!entries.some((e) => e.name === name)) entries.push({ name, kind: 'file' });
    }
    return entries;
  }

  follow(path: string): Followed {
    return this.base.follow(path);
  }

  async prefetch(paths: readonly string[]): Promise<void> {
    await this.base.prefetch(paths.filter((p) => !this.changes.has(p)));
  }

  release(paths: readonly string[]): void {
    this.base.release?.(paths.filter((p) => !this.changes.has(p)));
  }

  read(path: string, limit: number): Uint8Array {
    const change = this.changes.get(path);
    if (change === null) throw new Error(`${path} is deleted`);
    if (change !== undefined) return Buffer.from(change, 'utf8').subarray(0, limit + 1);
    return this.base.read(path, limit);
  }

  blobId(path: string): string | undefined {
    return this.changes.has(path) ? undefined : this.base.blobId(path);
  }
}

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);
