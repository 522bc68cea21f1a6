import { simpleGit } from 'simple-git';
import { parse } from 'yaml';
import { readBlobs } from '../git/blobs.js';
import { type Instant, isoUtc, isTimeZone } from '../model/time.js';
import { grantWindow, isActive } from '../model/window.js';
import { pathIdentity } from './history.js';

export interface AccessEntry {
  user: string;
  app: string;
  permissions: string[];
  license?: string;
}

export interface AccessView {
  asOf: string;
  /** The first-parent commit the view was read from; absent when the history starts later. */
  commit?: string;
  access: AccessEntry[];
}

const GRANT_FILE = /^grants\/[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*\.yaml$/;

/**
 * Who had access at an instant, from history alone: the grant files of the
 * last first-parent commit at or before it, those whose window holds it.
 */
export async function accessAsOf(root: string, at: Instant, app?: string): Promise<AccessView> {
  const git = simpleGit({ baseDir: root });
  const asOf = isoUtc(at);
  const commit = (
    await git.raw(['rev-list', '--first-parent', '-1', `--before=${asOf}`, 'HEAD']).catch(() => '')
  ).trim();
  if (!commit) return { asOf, access: [] };
  const tree = await git.raw(['ls-tree', '-r', '--full-tree', commit, '--', 'grants/']);
  const files = new Map<string, string>();
  for (const line of tree.split('\n')) {
    const [meta = '', path = ''] = line.split('\t');
    const blob = meta.split(' ')[2];
    if (blob && (GRANT_FILE.test(path) || path === 'grants/_settings.yaml')) files.set(path, blob);
  }
  const blobs = await readBlobs(root, files.values());
  const settings = parseMapping(blobs.get(files.get('grants/_settings.yaml') ?? ''));
  const zone =
    typeof settings?.timezone === 'string' && isTimeZone(settings.timezone) ? settings.timezone : 'UTC';
  const access: AccessEntry[] = [];
  for (const [path, blob] of files) {
    if (!GRANT_FILE.test(path)) continue;
    const identity = pathIdentity(path);
    if (app !== undefined && identity.app !== app) continue;
    const grant = parseMapping(blobs.get(blob));
    if (!grant) continue;
    const start = typeof grant.start === 'string' ? grant.start : undefined;
    const end = typeof grant.end === 'string' ? grant.end : undefined;
    const window = grantWindow({ start, end }, zone);
    if (!window || !isActive(window, at)) continue;
    const permissions = Array.isArray(grant.permissions)
      ? grant.permissions.filter((p): p is string => typeof p === 'string')
      : [];
    access.push({
      ...identity,
      permissions,
      ...(typeof grant.license === 'string' ? { license: grant.license } : {}),
    });
  }
  access.sort((a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user));
  return { asOf, commit, access };
}

function parseMapping(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
