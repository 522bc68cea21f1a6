import { describeRun, type RecordedChange } from '../model/record.js';
import { isoUtc } from '../model/time.js';
import { groupBy } from '../util/group-by.js';
import { type Applied, type AuditEvent, type EventKind, sortEvents } from './events.js';
import type { RunRecord, Warning } from './records.js';

/**
 * Puts what runs did beside what the history asked for. Each recorded change
 * joins the event it carried out: an expiry record the expiry of that grant
 * whose end had come by the run's instant (wherever the run's note sits), any
 * other record the latest event of its person and app at or before the
 * commit the run reconciled. Some are events of their own: drift removed,
 * mappings retired, changes that failed, and anything no event explains
 * (access applied from a commit no longer on the branch).
 */
export function attachRecords(
  events: AuditEvent[],
  records: readonly RunRecord[],
  warnings: Warning[],
): AuditEvent[] {
  const byPair = groupBy(events, (e) => `${e.app}\u0000${e.user}`);
  const own: AuditEvent[] = [];
  let unmatched = 0;
  for (const record of records) {
    const by = describeRun(record.by);
    for (const change of record.changes) {
      const applied = entry(record, by, change);
      const ownEvent = (kind: EventKind) =>
        own.push({
          commit: record.commit,
          position: record.position ?? -1,
          date: isoUtc(record.run),
          author: by,
          user: change.user,
          app: change.app,
          kind,
          applied: [applied],
        });
      if (record.position === undefined) {
        ownEvent('applied-unmatched');
        unmatched++;
        continue;
      }
      if (change.reason === 'drift') {
        ownEvent('drift-removed');
        continue;
      }
      if (change.reason === 'retired') {
        ownEvent('retired');
        continue;
      }
      const pair = byPair.get(`${change.app}\u0000${change.user}`) ?? [];
      const target =
        change.reason === 'expired'
          ? (pair.filter((e) => e.kind === 'expired' && Date.parse(e.date) <= record.at).at(-1) ??
            // A run pinned past the end removes it early; its expiry commit comes right after.
            pair.find((e) => e.kind === 'revoked' && e.position > record.position!))
          : pair
              .filter(
                (e) =>
                  e.kind !== 'expired' &&
                  e.position <= record.position! &&
                  // A grant is carried out by a grant, a removal by a revoke.
                  (change.action === 'revoke' || e.kind !== 'revoked'),
              )
              .at(-1);
      if (!target) {
        ownEvent('applied-unmatched');
        unmatched++;
        continue;
      }
      target.applied ??= [];
      target.applied.push(applied);
      if (target.kind === 'expired' && target.author === '') target.author = by;
      if (change.outcome === 'failed') ownEvent('apply-failed');
    }
  }
  if (unmatched > 0)
    warnings.push({
      code: 'unmatched-records',
      message: `${unmatched} recorded change${unmatched === 1 ? '' : 's'} match${unmatched === 1 ? 'es' : ''} no event of this history: listed as applied-unmatched`,
    });
  return sortEvents([...events, ...own]);
}

function entry(record: RunRecord, by: string, change: RecordedChange): Applied {
  const { action, entitlement, license, reason, outcome, error } = change;
  return {
    commit: record.commit,
    run: isoUtc(record.run),
    at: isoUtc(record.at),
    command: record.command,
    by,
    action,
    ...(entitlement !== undefined ? { entitlement } : {}),
    ...(license !== undefined ? { license } : {}),
    reason,
    outcome,
    ...(error !== undefined ? { error } : {}),
  };
}
