import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { appendRecord, type RecordContent, type RecordResult, recordHeaders } from '../git/notes.js';
import { runStateDir } from '../git/state.js';
import {
  type ApplyRecord,
  canonicalJson,
  chainHeads,
  RECORD_VERSION,
  type RecordedChange,
  type RunIdentity,
} from '../model/record.js';
import type { ChangeResult } from './apply.js';

export type { RecordedChange, RunIdentity };

/** What a record says before its changes: the run, and what it held back or skipped. */
export type RecordHeader = Omit<RecordContent, 'v' | 'changes' | 'interrupted'>;

/** Where records go: pushed or not, and signed with the record key when there is one. */
export interface RecordOptions {
  push: boolean;
  key?: string | undefined;
  /** A file the sealed record is also appended to (one JSON line), kept outside git. */
  copy?: string;
}

export function runIdentity(env: NodeJS.ProcessEnv): RunIdentity {
  if (env.GITHUB_ACTIONS) {
    return {
      ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
      ...(env.GITHUB_WORKFLOW ? { workflow: env.GITHUB_WORKFLOW } : {}),
      ...(env.GITHUB_RUN_ID ? { runId: env.GITHUB_RUN_ID } : {}),
      ...(env.GITHUB_RUN_ATTEMPT ? { attempt: env.GITHUB_RUN_ATTEMPT } : {}),
    };
  }
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER;
  }
  return { host: hostname(), ...(user ? { user } : {}) };
}

/** The run's record could not be written: the run stops, with what it did so far said. */
export class RecordWriteError extends Error {}

/**
 * What a run did, kept as it happens: each finished step's outcomes are
 * appended to a journal under .iden/journal/ (so a killed run loses at most
 * the step in flight), and at the end the whole becomes one line of the git
 * note of the commit the run reconciled. A journal left by a run that died
 * becomes its note at the next run, marked interrupted.
 */
export class Journal {
  private readonly path: string;
  private count = 0;

  /** `dir`: the run's journal folder (runStateDir(root, 'journal')). */
  constructor(
    private readonly root: string,
    dir: string,
    readonly header: RecordHeader,
  ) {
    this.path = join(dir, `${header.run.replace(/[:.]/g, '-')}-${process.pid}.jsonl`);
  }

  /** Appends finished changes; a write that fails (a full disk) stops the run. */
  append(results: readonly ChangeResult[]): void {
    if (results.length === 0) return;
    try {
      if (this.count === 0) writeFileSync(this.path, `${JSON.stringify(this.header)}\n`);
      appendFileSync(this.path, `${results.map((r) => JSON.stringify(recorded(r))).join('\n')}\n`);
      this.count += results.length;
    } catch (e) {
      throw new RecordWriteError(`cannot write the run's journal ${this.path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  get changes(): number {
    return this.count;
  }

  /**
   * Turns the journal into the commit's git note and pushes it; the journal
   * goes once the note is kept. A run that changed nothing records only when
   * what it held back or skipped differs from the latest record's, so a
   * grant held for days is one record, not one per run.
   */
  async finish(options: RecordOptions): Promise<RecordResult | undefined> {
    if (this.count === 0) {
      // New verification verdicts are worth a record too: the next run need not ask GitHub again.
      if (!this.header.verified?.length && !(await stateChanged(this.root, this.header))) return undefined;
      writeFileSync(this.path, `${JSON.stringify(this.header)}\n`);
    }
    return writeNote(this.root, this.path, options, false);
  }
}

function held(record: Pick<ApplyRecord, 'held' | 'skipped'>): string {
  const sorted = <T>(list: T[] | undefined) => (list ?? []).map(canonicalJson).sort();
  return JSON.stringify([sorted(record.held), sorted(record.skipped)]);
}

/** Whether the grants held back and the apps skipped differ from those of the latest record. */
async function stateChanged(root: string, header: RecordHeader): Promise<boolean> {
  const now = held(header);
  const heads = chainHeads([...(await recordHeaders(root)).values()].flat());
  const latest = heads
    .map((h) => h.record)
    .sort((a, b) => (a.run < b.run ? -1 : 1))
    .at(-1);
  return latest ? held(latest) !== now : now !== held({});
}

function recorded(r: ChangeResult): RecordedChange {
  const { action, app, user, account, entitlement, license, reason, outcome, error } = r;
  return {
    action,
    app,
    user,
    account,
    ...(entitlement !== undefined ? { entitlement } : {}),
    ...(license !== undefined ? { license } : {}),
    reason,
    outcome,
    ...(error !== undefined ? { error } : {}),
  };
}

async function writeNote(
  root: string,
  path: string,
  options: RecordOptions,
  interrupted: boolean,
): Promise<RecordResult> {
  const [head = '', ...lines] = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const header = JSON.parse(head) as RecordHeader;
  const changes = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as RecordedChange];
    } catch {
      return []; // the line being written when the run was killed
    }
  });
  const { run, at, command, commit, pinned, by, held, skipped, verified } = header;
  const content: RecordContent = {
    v: RECORD_VERSION,
    run,
    at,
    command,
    commit,
    ...(pinned ? { pinned } : {}),
    by,
    ...(interrupted ? { interrupted: true as const } : {}),
    ...(held && held.length > 0 ? { held } : {}),
    ...(skipped && skipped.length > 0 ? { skipped } : {}),
    ...(verified && verified.length > 0 ? { verified } : {}),
    changes,
  };
  const result = await appendRecord(root, content, options);
  if (result.kept) rmSync(path, { force: true });
  if (result.record && options.copy) {
    try {
      appendFileSync(options.copy, `${JSON.stringify(result.record)}\n`);
    } catch (e) {
      return {
        ...result,
        pushFailed: true,
        message: `${result.message}; NOT copied to ${options.copy}: ${(e as Error).message}`,
      };
    }
  }
  return result;
}

/** Journals of runs that died before writing their note: each becomes its note now, marked interrupted. */
export async function recoverJournals(
  root: string,
  options: RecordOptions,
  /** The journal folder, when the caller knows it (runStateDir(root, 'journal')). */
  journals?: string,
): Promise<RecordResult[]> {
  const dir = journals ?? (await runStateDir(root, 'journal'));
  const results: RecordResult[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    try {
      results.push(await writeNote(root, join(dir, name), options, true));
    } catch (e) {
      results.push({
        kept: false,
        pushFailed: false,
        message: `the journal ${name} could not be recorded: ${(e as Error).message}`,
      });
    }
  }
  return results;
}
