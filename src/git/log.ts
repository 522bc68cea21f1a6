import { simpleGit } from 'simple-git';
import { runGit } from './run.js';

/**
 * Reads of first-parent history: the raw log of a path, the commits in order,
 * and the facts about a clone that decide whether history can be trusted.
 * Parsing what they print is left to the callers (audit/history, the
 * revocation window), which know what they need of it.
 */

/** `git log --first-parent --raw -z` of `paths` from `head`, oldest first: each commit as NUL, sha, then its raw changes. */
export async function firstParentRaw(
  root: string,
  head: string,
  paths: readonly string[],
  /** Also each commit's parents and committer date (`%P`, `%ct`: hex and digits, which nothing in a commit can forge into a file entry). */
  dated = false,
): Promise<string> {
  return simpleGit({ baseDir: root }).raw([
    'log',
    '--first-parent',
    '--diff-merges=first-parent',
    '--reverse',
    '--raw',
    '-z',
    '--no-abbrev',
    '--no-renames',
    dated ? '--format=%x00%H%x00%P%x00%ct' : '--format=%x00%H',
    head,
    '--',
    ...paths,
  ]);
}

/** Every commit of `head`'s first-parent chain, oldest first. */
export async function firstParentCommits(root: string, head: string): Promise<string[]> {
  const list = await simpleGit({ baseDir: root }).raw(['rev-list', '--first-parent', '--reverse', head]);
  return list.split('\n').filter(Boolean);
}

/** Whether the clone is shallow: then history before its boundary is missing. */
export async function isShallow(root: string): Promise<boolean> {
  return (await simpleGit({ baseDir: root }).raw(['rev-parse', '--is-shallow-repository'])).trim() === 'true';
}

/**
 * Files deleted under `path` on `tip`'s first-parent history since a time
 * (seconds since the epoch): `git log --raw -z --diff-filter=D` with the
 * commit and its committer date before each commit's entries.
 */
export async function deletionsSince(
  root: string,
  tip: string,
  since: number,
  path: string,
): Promise<string> {
  const log = await runGit(root, [
    'log',
    '--first-parent',
    '--diff-merges=first-parent',
    '--no-renames',
    '--raw',
    '-z',
    '--no-abbrev',
    '--diff-filter=D',
    `--since=${since}`,
    '--format=%x00%H %ct',
    tip,
    '--',
    path,
  ]);
  return log.stdout;
}

/** The root commits `commit` descends from: what names a repository whatever its remotes. */
export async function rootCommits(root: string, commit: string): Promise<string[]> {
  const out = await simpleGit({ baseDir: root }).raw(['rev-list', '--max-parents=0', commit]);
  return out.split('\n').filter(Boolean).sort();
}

/** A remote's fetch URL, or '' when there is no such remote. */
export async function remoteUrl(root: string, remote = 'origin'): Promise<string> {
  return (
    await simpleGit({ baseDir: root })
      .raw(['config', '--get', `remote.${remote}.url`])
      .catch(() => '')
  ).trim();
}
