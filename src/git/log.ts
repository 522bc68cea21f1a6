import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, gitOutput, runGit } from './run.js';

/**
 * Reads of first-parent history: the raw log of a path, the commits in order,
 * and the facts about a clone that decide whether history can be trusted.
 * Parsing what they print is left to the callers (audit/history, the
 * revocation window), which know what they need of it.
 */

/**
 * `head`'s whole first-parent line in one walk, oldest first: every commit
 * (`--sparse`: those that change nothing under `paths` too) as NUL, its id,
 * parents, committer date (seconds) and subject, each ended by NUL, then its
 * raw changes under `paths` against its first parent (`:<modes> <blobs>
 * <status>` NUL path NUL). The fields before the subject are hex and digits,
 * git ends a subject at a NUL in the message, and a change always starts with
 * `:`, so read in order nothing a commit says can start another entry. One
 * process gives the order, the subjects and the changes; git writes the log
 * to a file (`gitOutput`), not through the helper a commit at a time.
 */
export async function firstParentHistory(
  root: string,
  head: string,
  paths: readonly string[],
): Promise<string> {
  return gitOutput(root, [
    'log',
    '--first-parent',
    '--sparse',
    '--diff-merges=first-parent',
    '--reverse',
    '--no-show-signature',
    '--raw',
    '-z',
    '--no-abbrev',
    '--no-renames',
    '--format=%x00%H%x00%P%x00%ct%x00%s',
    head,
    '--',
    ...paths,
  ]);
}

/**
 * `git log --first-parent --raw -z` of everything from `head`, newest first,
 * handed to `onFields` a batch of whole NUL-ended fields at a time: every
 * first-parent commit (NUL, sha, NUL) then its raw changes against its first
 * parent (`:<modes> <blobs> <status>` NUL path NUL). No pathspec, so every
 * commit is listed, even one that changes nothing: one process gives both the
 * order and the changes. git writes to a file in `scratch` (a folder of the
 * run's state), so it runs at its own speed while this process does other
 * work, and the output is read back in pieces, never held whole.
 */
export async function streamFirstParentLog(
  root: string,
  head: string,
  scratch: string,
  onFields: (fields: string[]) => void,
): Promise<void> {
  const file = join(scratch, `first-parent-${process.pid}-${++logs}.log`);
  try {
    await runGit(root, [
      'log',
      '--first-parent',
      '--diff-merges=first-parent',
      '--raw',
      '-z',
      '--no-abbrev',
      '--no-renames',
      '--format=%x00%H',
      `--output=${file}`,
      head,
      '--',
    ]);
    // Each field its own string, cut from the bytes: none keeps a whole chunk of output alive.
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      const bytes = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      const fields: string[] = [];
      let start = 0;
      for (let end = bytes.indexOf(0, start); end >= 0; end = bytes.indexOf(0, start)) {
        fields.push(bytes.toString('utf8', start, end));
        start = end + 1;
      }
      rest = Buffer.from(bytes.subarray(start));
      onFields(fields);
    }
    if (rest.length > 0) onFields([rest.toString('utf8')]);
  } finally {
    rmSync(file, { force: true });
  }
}

let logs = 0;

/** Whether the clone is shallow: then history before its boundary is missing. */
export async function isShallow(root: string): Promise<boolean> {
  return (await gitOut(root, ['rev-parse', '--is-shallow-repository'])).trim() === 'true';
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
  const out = await gitOut(root, ['rev-list', '--max-parents=0', commit]);
  return out.split('\n').filter(Boolean).sort();
}

/** A remote's fetch URL, or '' when there is no such remote. */
export async function remoteUrl(root: string, remote = 'origin'): Promise<string> {
  return (await gitOut(root, ['config', '--get', `remote.${remote}.url`]).catch(() => '')).trim();
}
