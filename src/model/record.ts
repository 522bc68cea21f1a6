import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Outcome } from './access.js';

/** The format of apply records this iden writes. Version 1 records (before the chain) are read, never verified. */
export const RECORD_VERSION = 2;

/** One change as an apply record keeps it. */
export interface RecordedChange {
  action: 'grant' | 'revoke';
  app: string;
  user: string;
  account: string;
  entitlement?: string;
  license?: string;
  reason: string;
  outcome: Outcome;
  error?: string;
}

/** Who made a run: in CI the workflow run, elsewhere the machine and user. */
export interface RunIdentity {
  host?: string;
  user?: string;
  repository?: string;
  workflow?: string;
  runId?: string;
  attempt?: string;
}

/**
 * One run's apply record: a line of the git note of the commit it reconciled.
 * `digest` is the SHA-256 of the record's canonical JSON without `digest` and
 * `mac`; `prev` the digests of the records that were the latest when it was
 * written (several after two runs recorded at once), so a record dropped or
 * edited later breaks the chain. `mac`, when the run had a record key, is an
 * HMAC of the digest that only holders of the key can make.
 */
export interface ApplyRecord {
  v: typeof RECORD_VERSION;
  /** When the run started. */
  run: string;
  /** The instant the run evaluated grants at. */
  at: string;
  command: string;
  /** The commit the run reconciled (the note's commit). */
  commit: string;
  /** Set when the run was given --at. */
  pinned?: true;
  by: RunIdentity;
  /** Set when the run was killed and its journal recorded by the next run. */
  interrupted?: true;
  /** Grants the run did not act on because their files fail validation. */
  held?: { app: string; user: string; reason: string }[];
  /** Apps the run could not observe, so did not act on. */
  skipped?: { app: string; reason: string }[];
  /** Apply-time verification's verdicts reached in this run (see reconcile/verify.ts). */
  verified?: { commit: string; path: string; ok: boolean; reason: string; pr?: number }[];
  changes: RecordedChange[];
  prev: string[];
  digest: string;
  mac?: string;
}

/** JSON with keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The digest a record must carry: of everything but its digest and MAC. */
export function recordDigest(record: Record<string, unknown>): string {
  const { digest: _digest, mac: _mac, ...content } = record;
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

/** Which key signed: the first 12 hex digits of the key's own SHA-256, never the key. */
export function keyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function recordMac(digest: string, key: string): string {
  return `hmac-sha256:${keyId(key)}:${createHmac('sha256', key).update(digest).digest('hex')}`;
}

/** Whether `mac` is the record key's MAC of `digest`. */
export function macMatches(mac: string, digest: string, key: string): boolean {
  const expected = Buffer.from(recordMac(digest, key));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Seals a record: its digest and, with a key, its MAC. */
export function sealRecord(content: Omit<ApplyRecord, 'digest' | 'mac'>, key?: string): ApplyRecord {
  const digest = recordDigest(content as unknown as Record<string, unknown>);
  return { ...content, digest, ...(key ? { mac: recordMac(digest, key) } : {}) };
}

/** How a run is named in audit output: the workflow run in CI, else user@host. */
export function describeRun(by: RunIdentity | undefined): string {
  if (!by) return 'an unnamed run';
  if (by.runId !== undefined || by.workflow !== undefined) {
    const run = by.runId !== undefined ? ` run ${by.runId}${by.attempt ? `.${by.attempt}` : ''}` : '';
    return `${by.workflow ?? 'workflow'}${run}${by.repository ? ` (${by.repository})` : ''}`;
  }
  return `${by.user ?? 'someone'}@${by.host ?? 'somewhere'}`;
}

/**
 * The records no other record names as `prev`: what a new record chains to.
 * Records without a digest (version 1) take no part.
 */
export function chainHeads(records: readonly unknown[]): { digest: string; record: ApplyRecord }[] {
  const chained = records.filter(
    (r): r is ApplyRecord =>
      !!r &&
      typeof r === 'object' &&
      typeof (r as ApplyRecord).digest === 'string' &&
      Array.isArray((r as ApplyRecord).prev),
  );
  const named = new Set(chained.flatMap((r) => r.prev));
  const heads = new Map<string, ApplyRecord>();
  for (const r of chained) if (!named.has(r.digest)) heads.set(r.digest, r);
  return [...heads]
    .map(([digest, record]) => ({ digest, record }))
    .sort((a, b) => (a.digest < b.digest ? -1 : 1));
}
