import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { simpleGit } from 'simple-git';
import { readBlobBuffers } from './blobs.js';

/**
 * Writes the access-repository files (grants/) of one commit into a new
 * temporary folder, byte for byte, symlinks as symlinks, so the same loader
 * and rules read a pull request's base and head as they read a work tree.
 */
export async function snapshot(root: string, ref: string): Promise<string> {
  const git = simpleGit({ baseDir: root });
  const tree = await git.raw(['ls-tree', '-r', '--full-tree', ref, '--', 'grants/']);
  const entries = tree
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [mode = '', type = '', id = ''] = meta.split(' ');
      return { mode, type, id, path };
    })
    .filter((e) => e.type === 'blob');
  const blobs = await readBlobBuffers(
    root,
    entries.map((e) => e.id),
  );
  const dir = mkdtempSync(join(tmpdir(), 'iden-snapshot-'));
  mkdirSync(join(dir, 'grants'), { recursive: true });
  for (const { mode, id, path } of entries) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    const bytes = blobs.get(id) ?? Buffer.alloc(0);
    if (mode === '120000') symlinkSync(bytes.toString('utf8'), target);
    else writeFileSync(target, bytes);
  }
  return dir;
}

/** The commit a ref names, or undefined. */
export async function resolveRef(root: string, ref: string): Promise<string | undefined> {
  const sha = await simpleGit({ baseDir: root })
    .raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])
    .catch(() => '');
  return sha.trim() || undefined;
}

/** Grant-repository files changed between the merge base of base and head, and head. */
export async function changedFiles(
  root: string,
  base: string,
  head: string,
): Promise<{ status: 'A' | 'M' | 'D'; path: string }[]> {
  const git = simpleGit({ baseDir: root });
  const mergeBase = (await git.raw(['merge-base', base, head])).trim();
  const out = await git.raw(['diff', '--name-status', '--no-renames', mergeBase, head]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [status = '', path = ''] = line.split('\t');
      return { status: (status[0] === 'A' || status[0] === 'D' ? status[0] : 'M') as 'A' | 'M' | 'D', path };
    });
}
