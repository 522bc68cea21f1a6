import type { Instant } from '../model/time.js';
import type { EmergencyNotice } from '../rules/emergency.js';
import { notifyEmergency } from '../rules/notify.js';
import { applyChanges, type ChangeResult } from './apply.js';
import type { Plan } from './plan.js';
import { Journal, RecordWriteError, runIdentity } from './records.js';
import type { Run } from './run.js';

export interface ExecuteOptions {
  /** The command, as the record names it. */
  command: string;
  /** When the run started (its record's `run`). */
  started: Instant;
  /** The run was given an instant to evaluate at (--at): its record says so. */
  pinned: boolean;
  /** Push the record (a git note) to the remote. */
  push: boolean;
  /** Sign it with this key (IDEN_RECORD_KEY). */
  key?: string | undefined;
  /** Also append the sealed record to this file: a copy kept outside git. */
  copy?: string | undefined;
  env: NodeJS.ProcessEnv;
  onProgress?: (app: string, done: number, total: number) => void;
  onAppWait?: (app: string, ms: number, error: Error) => void;
}

/** What a run did: every change's outcome, what became of its record, and whether it is whole. */
export interface Executed {
  results: ChangeResult[];
  /** The record kept, or why not; undefined when nothing needed recording. */
  record?: { kept: boolean; pushFailed: boolean; message: string } | undefined;
  /** The run's journal could not be written: it stopped, after these many changes. */
  stopped?: string | undefined;
  /** Applied everything it was given and kept (and pushed) its record. */
  complete: boolean;
  /** Emergency grants this run applied, each told to the notify webhook at once. */
  emergency?: EmergencyNotice[];
}

/**
 * Apply and record: runs the plan's changes, journaling each step's
 * outcomes as it finishes, and keeps the whole as a git note on the commit
 * the run reconciled. A record that cannot be written stops the run; one
 * that cannot be pushed makes it incomplete after applying. Used by the CLI
 * and the daemon alike: it prints nothing and returns what happened.
 */
export async function execute(run: Run, plan: Plan, options: ExecuteOptions): Promise<Executed> {
  const journal = run.commit
    ? new Journal(run.repo.root, run.journalDir, {
        run: new Date(options.started).toISOString(),
        at: plan.at,
        command: options.command,
        commit: run.commit,
        ...(options.pinned ? { pinned: true as const } : {}),
        by: runIdentity(options.env),
        held: plan.held.map(({ app, user, reason }) => ({ app, user, reason })),
        skipped: plan.skipped.map(({ app, reason }) => ({ app, reason })),
        verified: run.prepared.verified,
      })
    : undefined;
  const recordOptions = {
    push: options.push,
    key: options.key,
    ...(options.copy ? { copy: options.copy } : {}),
  };
  const finish = async (results: ChangeResult[], stopped?: string): Promise<Executed> => {
    let record: Executed['record'];
    try {
      record = await journal?.finish(recordOptions);
    } catch (e) {
      record = {
        kept: false,
        pushFailed: false,
        message: `the run's record was not kept: ${(e as Error).message}`,
      };
    }
    const recorded = !record || (record.kept && !record.pushFailed);
    return { results, record, stopped, complete: stopped === undefined && recorded };
  };
  if (plan.changes.length === 0) return finish([]);
  const done: ChangeResult[] = [];
  try {
    const results = await applyChanges(plan.changes, run.prepared.sessions, {
      ...run.retry,
      ...(options.onAppWait ? { onAppWait: options.onAppWait } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      onResults: (batch) => {
        done.push(...batch);
        journal?.append(batch);
      },
    });
    const emergency = await notifyEmergency(run.repo, results, options.env);
    const executed = await finish(results);
    return emergency.length > 0 ? { ...executed, emergency } : executed;
  } catch (e) {
    if (!(e instanceof RecordWriteError)) throw e;
    return finish(done, e.message);
  }
}
