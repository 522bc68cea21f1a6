import { simpleGit } from 'simple-git';
import { readBlobs } from '../git/blobs.js';
import { readRecords } from '../git/notes.js';
import type { Instant } from '../model/time.js';
import { type AuditEvent, attachRecords, buildEvents } from './events.js';
import { grantHistory } from './history.js';

export interface AuditQuery {
  user?: string | undefined;
  app?: string | undefined;
  since?: Instant | undefined;
  until?: Instant | undefined;
  zone: string;
  now: Instant;
}

/**
 * The audit timeline: the whole first-parent history read once, indexed, and
 * only the blobs of the grant files the query can touch read and parsed.
 */
export async function auditEvents(root: string, query: AuditQuery): Promise<AuditEvent[]> {
  const git = simpleGit({ baseDir: root });
  const commits = await grantHistory(root);
  const wanted = (path: string | undefined) => {
    if (path === undefined) return false;
    const [, app, file] = path.split('/');
    return (
      (query.app === undefined || app === query.app) &&
      (query.user === undefined || file === `${query.user}.yaml`)
    );
  };
  // A rename joins two identities: keep both sides of any rename that touches a wanted path.
  const relevant = commits
    .map((c) => ({ ...c, files: c.files.filter((f) => wanted(f.oldPath) || wanted(f.newPath)) }))
    .filter((c) => c.files.length > 0);
  const blobs = await readBlobs(
    root,
    relevant
      .flatMap((c) => c.files.flatMap((f) => [f.oldBlob, f.newBlob]))
      .filter((b): b is string => b !== undefined),
  );
  const events = buildEvents(relevant, blobs, query.zone, query.now).filter((e) => {
    const renamedFrom = e.changes?.file?.old;
    const matches =
      (query.user === undefined ||
        e.user === query.user ||
        (typeof renamedFrom === 'string' && wanted(renamedFrom))) &&
      (query.app === undefined ||
        e.app === query.app ||
        (typeof renamedFrom === 'string' && wanted(renamedFrom)));
    const at = Date.parse(e.date);
    return (
      matches &&
      (query.since === undefined || at >= query.since) &&
      (query.until === undefined || at < query.until)
    );
  });
  const records = await readRecords(root);
  if (records.size > 0) {
    const order = new Map(
      (await git.raw(['rev-list', '--first-parent', '--reverse', 'HEAD']))
        .split('\n')
        .filter(Boolean)
        .map((sha, i) => [sha, i] as const),
    );
    attachRecords(events, records, order);
  }
  return events;
}
