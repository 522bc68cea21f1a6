import { parse } from 'yaml';
import { readBlobs } from '../git/blobs.js';
import { deletionsSince } from '../git/log.js';
import { grantWindow } from '../model/window.js';
import { GRANT_PATH, REGRANT_DAYS } from './classify.js';

const DAY = 86_400_000;

/**
 * The grant files the protected branch revoked (deleted before their end)
 * within REGRANT_DAYS before `at`, on its first-parent history up to `tip`:
 * a new grant of the same access so soon is a change of it, not a new grant.
 * A file deleted after its end had passed expired; it is not a revocation.
 */
export async function recentRevocations(
  root: string,
  tip: string,
  at: number,
  zone: string,
): Promise<Map<string, { commit: string; at: number }>> {
  const since = Math.floor((at - REGRANT_DAYS * DAY) / 1000);
  const log = await deletionsSince(root, tip, since, 'grants/');
  const deleted: { path: string; commit: string; at: number; blob: string }[] = [];
  let commit = '';
  let when = 0;
  const fields = log.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!.replace(/^\n/, '');
    const header = /^([0-9a-f]{40,64}) (\d+)$/.exec(field);
    if (header) {
      commit = header[1]!;
      when = Number(header[2]) * 1000;
      continue;
    }
    if (!field.startsWith(':')) continue;
    const path = fields[++i] ?? '';
    const blob = field.slice(1).split(' ')[2] ?? '';
    // Newest first: the latest revocation of a path is the one that counts.
    if (GRANT_PATH.test(path) && !deleted.some((d) => d.path === path))
      deleted.push({ path, commit, at: when, blob });
  }
  const blobs = await readBlobs(
    root,
    deleted.map((d) => d.blob),
  );
  const out = new Map<string, { commit: string; at: number }>();
  for (const d of deleted) {
    let end: number | undefined;
    try {
      const value = parse(blobs.get(d.blob) ?? '') as { end?: unknown };
      end = typeof value?.end === 'string' ? grantWindow({ end: value.end }, zone)?.end : undefined;
    } catch {
      end = undefined;
    }
    if (end !== undefined && end <= d.at) continue;
    out.set(d.path, { commit: d.commit, at: d.at });
  }
  return out;
}
