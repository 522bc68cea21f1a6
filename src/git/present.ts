import { gitBytes, gitOut } from './run.js';

/**
 * Which of these paths name a file (a blob) in the commit, asked of one
 * `git cat-file --batch-check` process: each path is one lookup through the
 * trees above it, so asking for a file in each of 2,000 folders never lists
 * the folders' other files.
 */
export async function presentFiles(
  root: string,
  commit: string,
  paths: readonly string[],
): Promise<Set<string>> {
  const wanted = [...new Set(paths)].filter((p) => !/[\n\r]/.test(p));
  const found = new Set<string>();
  if (wanted.length === 0) return found;
  const out = (
    await gitBytes(
      root,
      ['cat-file', '--batch-check=%(objecttype)'],
      wanted.map((p) => `${commit}:${p}\n`).join(''),
    )
  ).toString('utf8');
  // One line per path asked, in order: its type, or "<name> missing".
  const lines = out.split('\n');
  wanted.forEach((path, i) => {
    if (lines[i] === 'blob') found.add(path);
  });
  return found;
}

/** The folders directly inside `dir` (a path ending in /) of the commit. */
export async function foldersIn(root: string, commit: string, dir: string): Promise<string[]> {
  const out = await gitOut(root, ['ls-tree', '-z', '--full-tree', commit, '--', dir]);
  const names: string[] = [];
  for (const record of out.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0 || record.slice(0, tab).split(' ')[1] !== 'tree') continue;
    names.push(record.slice(tab + 1).slice(dir.length));
  }
  return names;
}
