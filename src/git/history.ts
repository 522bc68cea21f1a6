import { simpleGit } from 'simple-git';

export interface GrantHistory {
  /** Every grant file path that git has known in HEAD's history (deleted ones included). */
  paths: Set<string>;
  /** Why the history may be incomplete, for the run's output. */
  notice?: string;
}

/**
 * The grant files git has ever held on this branch. A grant file that is gone
 * from the work tree but known here was deleted: its leftover access is
 * `removed`, which is revoked even where drift is not.
 */
export async function grantFilesInHistory(root: string): Promise<GrantHistory> {
  const git = simpleGit({ baseDir: root });
  try {
    if (!(await git.checkIsRepo())) {
      return {
        paths: new Set(),
        notice: 'not a git repository: access whose grant file was deleted shows as drift',
      };
    }
    const head = await git.raw(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
    if (!head.trim()) return { paths: new Set() };
    const [tracked, deleted, shallow] = await Promise.all([
      git.raw(['ls-tree', '-r', '--name-only', 'HEAD', '--', 'grants/']),
      git.raw([
        'log',
        '--format=',
        '--name-only',
        '--diff-filter=D',
        '--no-renames',
        'HEAD',
        '--',
        'grants/',
      ]),
      git.raw(['rev-parse', '--is-shallow-repository']),
    ]);
    const paths = new Set(
      `${tracked}\n${deleted}`
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.endsWith('.yaml')),
    );
    return shallow.trim() === 'true'
      ? {
          paths,
          notice:
            'shallow clone: grant files deleted before its first commit show as drift; fetch the full history',
        }
      : { paths };
  } catch (e) {
    return {
      paths: new Set(),
      notice: `cannot read git history (${(e as Error).message}): deleted grants show as drift`,
    };
  }
}
