import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gitOut } from './run.js';

/**
 * The blob id of each file under grants/ that git vouches is unchanged in the
 * work tree: tracked, not in conflict, not marked assume-unchanged or
 * skip-worktree, a regular file, and not listed by `git diff-files` (which
 * compares each file with the index, as `git status` does). Such a file need
 * not even be read. Undefined outside a git work tree.
 */
export async function vouchedByGit(root: string): Promise<Map<string, string> | undefined> {
  const git = (args: string[]) => gitOut(root, args);
  try {
    const [listed, changed, where, attributesFile] = await Promise.all([
      git(['ls-files', '-s', '-v', '-z', '--', 'grants']),
      git(['diff-files', '--name-only', '--relative', '-z', '--', 'grants']),
      git(['rev-parse', '--show-toplevel', '--git-path', 'info/attributes']),
      git(['config', '--get', 'core.attributesFile']).catch(() => ''),
    ]);
    // With git attributes (a filter, an encoding, line endings) the bytes in the
    // work tree are not the blob's: then every file is read and hashed instead.
    const [top, info] = where.trim().split('\n');
    const attributes = [join(top!, '.gitattributes'), join(root, '.gitattributes'), resolve(root, info!)];
    if (attributesFile.trim() !== '' || attributes.some((f) => existsSync(f))) return undefined;
    if (
      readdirSync(join(root, 'grants')).some((app) => existsSync(join(root, 'grants', app, '.gitattributes')))
    )
      return undefined;
    if (existsSync(join(root, 'grants', '.gitattributes'))) return undefined;
    const vouched = new Map<string, string>();
    for (const entry of listed.split('\0')) {
      // "H 100644 <blob> 0\t<path>"
      const m = /^H (100644|100755) ([0-9a-f]{40}) 0\t(.+)$/s.exec(entry);
      if (m) vouched.set(m[3]!, m[2]!);
    }
    for (const path of changed.split('\0')) vouched.delete(path);
    return vouched;
  } catch {
    return undefined;
  }
}
