import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

import type { EntryKind, Followed, Tree, TreeEntry } from '../model/tree.js';

export type { EntryKind, Followed, Tree, TreeEntry } from '../model/tree.js';

let scratch = Buffer.allocUnsafe(64 * 1024 + 1);

/**
 * Reads at most limit + 1 bytes, so an oversized file is reported without
 * being read whole. The returned bytes are only valid until the next call.
 */
export function readCapped(path: string, limit: number): Uint8Array {
  if (scratch.length < limit + 1) scratch = Buffer.allocUnsafe(limit + 1);
  const fd = openSync(path, 'r');
  try {
    let total = 0;
    while (total <= limit) {
      const n = readSync(fd, scratch, total, limit + 1 - total, null);
      if (n === 0) break;
      total += n;
    }
    return scratch.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

/** The work tree on disk, as it is now (uncommitted files included): what `iden validate` checks. */
export class WorkTree implements Tree {
  readonly commit = undefined;
  private readonly realRoot: string;

  constructor(readonly root: string) {
    this.realRoot = realpathSync(root);
  }

  private abs(path: string): string {
    return path === '' ? this.root : join(this.root, ...path.split('/'));
  }

  kind(path: string): EntryKind | undefined {
    try {
      const stat = statSync(this.abs(path), { throwIfNoEntry: false });
      if (!stat) return undefined;
      return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other';
    } catch {
      return undefined;
    }
  }

  list(path: string): TreeEntry[] {
    return readdirSync(this.abs(path), { withFileTypes: true }).map((d) => ({
      name: d.name,
      kind: d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other',
    }));
  }

  follow(path: string): Followed {
    let real: string;
    try {
      real = realpathSync(this.abs(path));
    } catch {
      return { ok: false, why: 'missing', target: path };
    }
    const inside = relative(this.realRoot, real);
    if (inside === '' || inside.split(sep)[0] === '..' || /^[a-zA-Z]:/.test(inside)) {
      return { ok: false, why: 'outside', target: real };
    }
    const kind = statSync(real).isDirectory() ? 'dir' : 'file';
    return { ok: true, kind, path: inside.split(sep).join('/') };
  }

  async prefetch(): Promise<void> {}

  read(path: string, limit: number): Uint8Array {
    return readCapped(this.abs(path), limit);
  }

  blobId(): string | undefined {
    return undefined;
  }
}
