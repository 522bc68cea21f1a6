import type { ChangedFile } from '../model/change-file.js';
import { gitOut } from './run.js';

/** The commit a ref names, or undefined. */
export async function resolveRef(root: string, ref: string): Promise<string | undefined> {
  const sha = await gitOut(root, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${ref}^{commit}`,
  ]).catch(() => '');
  return sha.trim() || undefined;
}

export async function mergeBase(root: string, base: string, head: string): Promise<string> {
  return (await gitOut(root, ['merge-base', base, head])).trim();
}

/**
 * Every path changed between two commits, exactly as git stores it: read
 * NUL-separated (no quoting of unusual names), with no rename detection (a
 * rename is a deletion and an addition, both judged), no text conversion and
 * no external diff driver (a repository's attributes run nothing here).
 */
export async function changedPaths(
  root: string,
  from: string,
  to: string,
): Promise<Omit<ChangedFile, 'affects'>[]> {
  const out = await gitOut(root, [
    'diff',
    '--raw',
    '-z',
    '--no-renames',
    '--no-textconv',
    '--no-ext-diff',
    '--no-abbrev',
    from,
    to,
  ]);
  const fields = out.split('\0');
  const files: Omit<ChangedFile, 'affects'>[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!;
    const path = fields[i + 1]!;
    if (!meta.startsWith(':')) break;
    const [oldMode = '', newMode = '', , , status = ''] = meta.slice(1).split(' ');
    const kind = status[0] === 'A' || status[0] === 'D' || status[0] === 'T' ? status[0] : 'M';
    files.push({
      status: kind,
      path,
      oldMode: oldMode === '000000' ? '' : oldMode,
      newMode: newMode === '000000' ? '' : newMode,
    });
  }
  return files;
}
