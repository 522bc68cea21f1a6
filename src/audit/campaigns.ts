import { readObjects } from '../git/blobs.js';
import { isoUtc } from '../model/time.js';
import { parseDecision, trailers } from '../reviews/decide.js';
import type { AuditEvent } from './events.js';
import type { Close } from './history.js';

const CLOSE = /^Close access review (\S+): (\S+) \(#(\d+)\)$/;

/**
 * Access-review decisions as events of their own, one per item: read from
 * each merged close of a campaign on the first-parent history (its merge
 * commit's second parent carries the decisions as trailers). A kept item
 * changes no file, so without these it would leave no trace in the audit.
 */
export async function campaignEvents(
  root: string,
  /** The first-parent merges whose subject may close a campaign, from the history's one walk. */
  closes: readonly Close[],
  positions: ReadonlyMap<string, number>,
  wanted: (path: string) => boolean,
): Promise<AuditEvent[]> {
  // A close that kept everything changes no grant file: found by its subject, not among the grants' commits.
  const merges = closes.filter((c) => c.parents.length === 2 && CLOSE.test(c.subject));
  if (merges.length === 0) return [];
  const objects = await readObjects(
    root,
    merges.map((m) => m.parents[1]!),
  );
  const events: AuditEvent[] = [];
  for (const merge of merges) {
    const [, campaign = '', , pr] = CLOSE.exec(merge.subject) ?? [];
    const close = objects.get(merge.parents[1]!);
    if (close?.type !== 'commit') continue;
    const message = close.data.toString('utf8').split('\n\n').slice(1).join('\n\n');
    const t = trailers(message);
    if (t.get('Review')?.[0] !== campaign) continue;
    for (const value of t.get('Decision') ?? []) {
      const d = parseDecision(value);
      const grant = d && /^grants\/([^/]+)\/([^/]+)\.yaml$/.exec(d.file);
      if (!d || !grant || !wanted(d.file)) continue;
      events.push({
        commit: merge.sha,
        date: isoUtc(merge.date),
        author: d.by ?? 'iden review',
        user: grant[2]!,
        app: grant[1]!,
        kind: 'reviewed',
        pr: Number(pr),
        prSource: 'subject',
        review: {
          campaign,
          decision: d.decision,
          ...(d.reason ? { reason: d.reason } : {}),
          ...(d.note ? { note: d.note } : {}),
          ...(d.at ? { at: d.at } : {}),
        },
        position: positions.get(merge.sha) ?? 0,
        file: d.file,
      });
    }
  }
  return events;
}
