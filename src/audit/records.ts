import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { NoteLine } from '../git/notes.js';
import { keyId, macMatches, type RecordedChange, type RunIdentity, recordDigest } from '../model/record.js';
import { FORMATS } from '../schema/formats.js';
import { packageRoot } from '../util/package-root.js';

/** Something that makes the audit less than complete or less than trustworthy, said in the output. */
export interface Warning {
  code: string;
  message: string;
  commit?: string;
}

/** One run's record, checked. */
export interface RunRecord {
  /** The commit whose note holds it. */
  commit: string;
  /** That commit's first-parent position; undefined when the commit is no longer on the branch. */
  position: number | undefined;
  /** 1 for records from before the chain: read, never verified. */
  version: 1 | 2;
  run: number;
  at: number;
  command: string;
  pinned: boolean;
  interrupted: boolean;
  by: RunIdentity | undefined;
  held: { app: string; user: string; reason: string }[];
  skipped: { app: string; reason: string }[];
  changes: RecordedChange[];
  digest?: string;
}

export interface CheckedRecords {
  /** Records that can be used, oldest run first. Edited or forged ones are left out (and warned of). */
  records: RunRecord[];
  warnings: Warning[];
  total: number;
  /** Records whose digest (and MAC, with a key) checked out and whose chain is whole behind them. */
  verified: number;
  /** The earliest run whose commit is no longer on the branch: history was rewritten since. */
  rewrittenSince?: string;
}

let validate: ReturnType<Ajv2020['compile']> | undefined;

/** The record schema, compiled once: ajv is loaded only when there are records to check. */
async function schema(): Promise<ReturnType<Ajv2020['compile']>> {
  if (!validate) {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: false, strict: false, formats: FORMATS });
    validate = ajv.compile(
      JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'record.schema.json'), 'utf8')),
    );
  }
  return validate;
}

/**
 * Reads the records of refs/notes/iden as evidence: each line must be an
 * apply record (schemas/record.schema.json), its digest must match its
 * content and its commit the note's, every record it chains to must be
 * there, and with the record key its MAC must be the key's. What fails is
 * said with its commit; malformed lines are skipped, never fatal.
 */
export async function checkRecords(
  lines: readonly NoteLine[],
  positions: ReadonlyMap<string, number>,
  key: string | undefined,
  /** With a key: records of runs before this instant (epoch ms) may be unsigned, as written before the key was set. */
  signedSince?: number,
): Promise<CheckedRecords> {
  const warnings: Warning[] = [];
  const records: RunRecord[] = [];
  const digests = new Set<string>();
  const prevs: { digest: string; by: RunRecord }[] = [];
  let signedWithoutKey = 0;
  let verified = 0;
  let check: ReturnType<Ajv2020['compile']> | undefined;
  for (const { commit, line, text } of lines) {
    const where = `the record on ${commit.slice(0, 12)} (line ${line})`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      warnings.push({ code: 'unreadable-record', message: `${where} is not JSON; skipped`, commit });
      continue;
    }
    check ??= await schema();
    if (!check(value)) {
      const error = check.errors?.[0];
      warnings.push({
        code: 'unreadable-record',
        message: `${where} is not an apply record (${error ? `${error.instancePath || '(top)'} ${error.message}` : 'schema'}); skipped`,
        commit,
      });
      continue;
    }
    const raw = value as Record<string, unknown> & {
      v?: number;
      run: string;
      at?: string;
      command: string;
      commit?: string;
      pinned?: boolean;
      interrupted?: boolean;
      by?: RunIdentity;
      held?: RunRecord['held'];
      skipped?: RunRecord['skipped'];
      changes: RecordedChange[];
      prev?: string[];
      digest?: string;
      mac?: string;
    };
    const record: RunRecord = {
      commit,
      position: positions.get(commit),
      version: raw.v === 2 ? 2 : 1,
      run: Date.parse(raw.run),
      at: Date.parse(raw.at ?? raw.run),
      command: raw.command,
      pinned: raw.pinned === true,
      interrupted: raw.interrupted === true,
      by: raw.by,
      held: raw.held ?? [],
      skipped: raw.skipped ?? [],
      changes: raw.changes,
      ...(raw.digest ? { digest: raw.digest } : {}),
    };
    // With a key, a record must carry its MAC, whatever its version, unless it was written before signing began.
    const mayBeUnsigned = signedSince !== undefined && record.run < signedSince;
    if (record.version === 1) {
      if (key && !mayBeUnsigned) {
        warnings.push({
          code: 'record-unsigned',
          message: `${where}, of the run at ${raw.run}, is an unsigned record of the form before the chain, though a record key is set${signedSince === undefined ? '' : ` and records since ${new Date(signedSince).toISOString()} must be signed (records.signedSince)`}; skipped`,
          commit,
        });
        continue;
      }
      records.push(record);
      continue;
    }
    if (recordDigest(raw) !== raw.digest) {
      warnings.push({
        code: 'record-edited',
        message: `${where}, of the run at ${raw.run}, does not match its digest: it was edited after it was written; skipped`,
        commit,
      });
      continue;
    }
    if (raw.commit !== commit) {
      warnings.push({
        code: 'record-moved',
        message: `${where} says it records commit ${String(raw.commit).slice(0, 12)}: it was copied or moved; skipped`,
        commit,
      });
      continue;
    }
    if (key && !(mayBeUnsigned && !raw.mac)) {
      if (!raw.mac) {
        warnings.push({
          code: 'record-unsigned',
          message: `${where}, of the run at ${raw.run}, carries no MAC though a record key is set: written without IDEN_RECORD_KEY, or by someone without it; skipped`,
          commit,
        });
        continue;
      }
      if (!macMatches(raw.mac, raw.digest, key)) {
        warnings.push({
          code: 'record-forged',
          message: `${where}, of the run at ${raw.run}, carries a MAC the record key did not make${raw.mac.split(':')[1] !== keyId(key) ? ' (signed with another key)' : ''}; skipped`,
          commit,
        });
        continue;
      }
    } else if (raw.mac) signedWithoutKey++;
    digests.add(raw.digest);
    for (const digest of raw.prev ?? []) prevs.push({ digest, by: record });
    records.push(record);
  }

  // Version 1 records come only from before the chain: one dated after a chained record was added by hand.
  const chainStart = Math.min(...records.filter((r) => r.version === 2).map((r) => r.run));
  const late = records.filter((r) => r.version === 1 && r.run >= chainStart);
  for (const r of late)
    warnings.push({
      code: 'record-forged',
      message: `a record on ${r.commit.slice(0, 12)}, of the run at ${new Date(r.run).toISOString()}, has the unchained form of records older than the chain, yet is dated after it began: added by hand; skipped`,
      commit: r.commit,
    });
  for (const r of late) records.splice(records.indexOf(r), 1);
  const legacy = records.filter((r) => r.version === 1).length;
  const missing = new Map<string, RunRecord>();
  for (const { digest, by } of prevs)
    if (!digests.has(digest) && !missing.has(digest)) missing.set(digest, by);
  for (const [digest, by] of missing) {
    warnings.push({
      code: 'record-missing',
      message: `a record that the run at ${new Date(by.run).toISOString()} (on ${by.commit.slice(0, 12)}) follows is gone (${digest.slice(0, 19)}…): records were removed from refs/notes/iden`,
      commit: by.commit,
    });
  }
  // A record is verified when it checked out and nothing is missing before it in time.
  const firstBreak = Math.min(...[...missing.values()].map((r) => r.run));
  for (const r of records) if (r.version === 2 && r.run < firstBreak) verified++;

  if (legacy > 0)
    warnings.push({
      code: 'records-unchained',
      message: `${legacy} record${legacy === 1 ? '' : 's'} predate${legacy === 1 ? 's' : ''} the record chain (version 1): read, but nothing shows whether they were changed`,
    });
  if (!key && signedWithoutKey > 0)
    warnings.push({
      code: 'record-key-absent',
      message: `${signedWithoutKey} record${signedWithoutKey === 1 ? ' is' : 's are'} signed, and IDEN_RECORD_KEY is not set here: their digests were checked, not their MACs`,
    });

  const orphans = records.filter((r) => r.position === undefined);
  let rewrittenSince: string | undefined;
  if (orphans.length > 0) {
    const earliest = Math.min(...orphans.map((r) => r.run));
    rewrittenSince = new Date(earliest).toISOString();
    const commits = new Set(orphans.map((r) => r.commit));
    warnings.push({
      code: 'orphaned-records',
      message: `${orphans.length} record${orphans.length === 1 ? '' : 's'} of runs since ${rewrittenSince} name${orphans.length === 1 ? 's' : ''} ${commits.size} commit${commits.size === 1 ? '' : 's'} no longer on this branch (${[...commits].map((c) => c.slice(0, 12)).join(', ')}): its history was rewritten; what they applied is listed as applied-unmatched`,
    });
  }
  const pinned = records.filter((r) => r.pinned);
  if (pinned.length > 0)
    warnings.push({
      code: 'pinned-runs',
      message: `${pinned.length} run${pinned.length === 1 ? ' was' : 's were'} made with --at, evaluating grants at another instant than when ${pinned.length === 1 ? 'it' : 'they'} ran: access may have been applied early or late on purpose`,
    });
  records.sort((a, b) => a.run - b.run);
  return {
    records,
    warnings,
    total: lines.length,
    verified,
    ...(rewrittenSince ? { rewrittenSince } : {}),
  };
}
