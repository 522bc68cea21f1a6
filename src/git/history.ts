import { simpleGit } from 'simple-git';

export interface GrantHistory {
  /** Every grant file path that git has known in HEAD's history (deleted ones included). */
  paths: Set<string>;
  /** Grant files with more than one version in that history: the ones whose history can matter. */
  changed: Set<string>;
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
        changed: new Set(),
        notice: 'not a git repository: access whose grant file was deleted shows as drift',
      };
    }
    const head = await git.raw(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
    if (!head.trim()) return { paths: new Set(), changed: new Set() };
    const [tracked, touched, shallow] = await Promise.all([
      git.raw(['ls-tree', '-r', '-z', '--name-only', 'HEAD', '--', 'grants/']),
      git.raw(['log', '--format=', '--name-status', '-z', '--no-renames', 'HEAD', '--', 'grants/']),
      git.raw(['rev-parse', '--is-shallow-repository']),
    ]);
    const paths = new Set(tracked.split('\0').filter((p) => p.endsWith('.yaml')));
    const versions = new Map<string, number>();
    const fields = touched.split('\0').filter(Boolean);
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [status = '', path = ''] = [fields[i]!.trim(), fields[i + 1]!];
      if (!path.endsWith('.yaml')) continue;
      if (status === 'D') paths.add(path);
      versions.set(path, (versions.get(path) ?? 0) + 1);
    }
    const changed = new Set([...versions].filter(([, n]) => n > 1).map(([p]) => p));
    return shallow.trim() === 'true'
      ? {
          paths,
          changed,
          notice:
            'shallow clone: grant files deleted before its first commit show as drift; fetch the full history',
        }
      : { paths, changed };
  } catch (e) {
    return {
      paths: new Set(),
      changed: new Set(),
      notice: `cannot read git history (${(e as Error).message}): deleted grants show as drift`,
    };
  }
}
