import { isoUtc } from '../model/time.js';

/**
 * What the apply records (git notes under refs/notes/iden, as readRecords
 * gives them) say of each app's user: read loosely, since a record is data
 * a run wrote and an old one may lack a field; one it cannot read is passed
 * over, never trusted.
 */

type Loose = { at?: unknown; changes?: unknown };
type LooseChange = { action?: unknown; app?: unknown; user?: unknown; outcome?: unknown };

function* applied(records: Map<string, unknown[]>, action: 'grant' | 'revoke') {
  for (const list of records.values())
    for (const r of list as Loose[]) {
      if (typeof r?.at !== 'string' || !Array.isArray(r.changes) || Number.isNaN(Date.parse(r.at))) continue;
      for (const c of r.changes as LooseChange[]) {
        if (c?.action !== action || c.outcome === 'failed') continue;
        yield { key: `${String(c.app)}\u0000${String(c.user)}`, at: isoUtc(Date.parse(r.at)) };
      }
    }
}

/** When each app's user had a revocation applied (instants the runs evaluated, sorted). */
export function appliedRevocations(records: Map<string, unknown[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { key, at } of applied(records, 'revoke')) out.set(key, [...(out.get(key) ?? []), at]);
  for (const list of out.values()) list.sort();
  return out;
}

/** When each app's user last had access applied: the latest record that granted it. */
export function lastGrantApplied(records: Map<string, unknown[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const { key, at } of applied(records, 'grant')) {
    const had = out.get(key);
    if (had === undefined || at > had) out.set(key, at);
  }
  return out;
}
