import { simpleGit } from 'simple-git';

export interface FileChange {
  status: 'A' | 'M' | 'D' | 'R';
  /** Before the commit (M, D, R). */
  oldPath?: string | undefined;
  oldBlob?: string | undefined;
  /** After the commit (A, M, R). */
  newPath?: string | undefined;
  newBlob?: string | undefined;
}

export interface Commit {
  sha: string;
  /** Committer date, ISO 8601. */
  date: string;
  author: string;
  email: string;
  subject: string;
  files: FileChange[];
}

const GRANT_FILE = /^grants\/[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*\.yaml$/;
const ZERO = /^0+$/;

/**
 * The first-parent history of the grant files on HEAD, oldest first, in one
 * `git log`: each commit with its grant files' changes and blob ids (renames
 * followed). A merge commit shows what it brought to the branch.
 */
export async function grantHistory(root: string): Promise<Commit[]> {
  const git = simpleGit({ baseDir: root });
  const head = await git.raw(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
  if (!head.trim()) return [];
  const out = await git.raw([
    'log',
    '--first-parent',
    '--diff-merges=first-parent',
    '--reverse',
    '--raw',
    '--no-abbrev',
    '-M',
    '--format=%x1e%H%x1f%cI%x1f%an%x1f%ae%x1f%s',
    'HEAD',
    '--',
    'grants/',
  ]);
  return parseLog(out);
}

export function parseLog(out: string): Commit[] {
  const commits: Commit[] = [];
  for (const record of out.split('\x1e')) {
    if (!record.trim()) continue;
    const [headerLine = '', ...lines] = record.split('\n');
    const [sha = '', date = '', author = '', email = '', subject = ''] = headerLine.split('\x1f');
    const files: FileChange[] = [];
    for (const line of lines) {
      if (!line.startsWith(':')) continue;
      const [meta = '', ...paths] = line.split('\t');
      const [, , oldBlob = '', newBlob = '', status = ''] = meta.split(' ');
      const kind = status[0];
      const change: FileChange = { status: kind === 'C' ? 'A' : (kind as FileChange['status']) };
      if (kind === 'R') {
        change.oldPath = paths[0];
        change.newPath = paths[1];
      } else if (kind === 'D') change.oldPath = paths[0];
      else if (kind === 'A' || kind === 'C') change.newPath = paths[kind === 'C' ? 1 : 0];
      else {
        change.oldPath = paths[0];
        change.newPath = paths[0];
      }
      if (change.oldPath !== undefined && !ZERO.test(oldBlob)) change.oldBlob = oldBlob;
      if (change.newPath !== undefined && !ZERO.test(newBlob)) change.newBlob = newBlob;
      const relevant = [change.oldPath, change.newPath].some((p) => p !== undefined && GRANT_FILE.test(p));
      if (relevant && 'AMDR'.includes(change.status)) files.push(change);
    }
    commits.push({ sha, date, author, email, subject, files });
  }
  return commits;
}

/** The app and person a grant file path names. */
export function pathIdentity(path: string): { app: string; user: string } {
  const [, app = '', file = ''] = path.split('/');
  return { app, user: file.slice(0, -'.yaml'.length) };
}
