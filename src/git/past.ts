import { simpleGit } from 'simple-git';
import { parse } from 'yaml';
import { readBlobs } from './blobs.js';

/**
 * Every version a path has had on HEAD's history, newest first, parsed: what
 * offboarding (the accounts a deleted person had) and retirement (the
 * mappings an app used to declare) read. Unparseable versions are skipped.
 */
export async function pastVersions(
  root: string,
  path: string,
): Promise<{ commit: string; value: unknown }[]> {
  const git = simpleGit({ baseDir: root });
  let out: string;
  try {
    out = await git.raw([
      'log',
      '--format=%x00%H',
      '--raw',
      '--no-abbrev',
      '--no-renames',
      'HEAD',
      '--',
      path,
    ]);
  } catch {
    return [];
  }
  const versions: { commit: string; blob: string }[] = [];
  for (const record of out.split('\0')) {
    const [commit = '', ...lines] = record.trim().split('\n');
    const raw = lines.find((l) => l.startsWith(':'));
    const blob = raw?.split(' ')[3];
    if (commit && blob && !/^0+$/.test(blob)) versions.push({ commit, blob });
  }
  const blobs = await readBlobs(
    root,
    versions.map((v) => v.blob),
  );
  return versions.flatMap(({ commit, blob }) => {
    try {
      return [{ commit, value: parse(blobs.get(blob) ?? '') as unknown }];
    } catch {
      return [];
    }
  });
}
