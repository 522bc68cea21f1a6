import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { appendRecord, type RecordResult } from '../git/notes.js';
import type { Outcome } from '../model/access.js';
import type { ChangeResult } from './apply.js';

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

export interface RecordHeader {
  /** When the run started (its identity among records). */
  run: string;
  /** The instant the run evaluated grants at. */
  at: string;
  command: string;
  /** The commit the run reconciled. */
  commit: string;
  /** Set when the run was given --at: records of such runs say what was applied early or late on purpose. */
  pinned?: boolean;
  by: RunIdentity;
}

/** The local folder iden keeps its state in, never committed: it ignores itself. */
export function stateDir(root: string, ...parts: string[]): string {
  const dir = join(root, '.iden');
  if (!existsSync(join(dir, '.gitignore'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '# iden keeps its local state here: never commit it.\n*\n');
  }
  const path = join(dir, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
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

  constructor(
    private readonly root: string,
    readonly header: RecordHeader,
  ) {
    this.path = join(stateDir(root, 'journal'), `${header.run.replace(/[:.]/g, '-')}-${process.pid}.jsonl`);
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

  /** Turns the journal into the commit's git note and pushes it; the journal goes once the note is kept. */
  async finish(push: boolean): Promise<RecordResult | undefined> {
    if (this.count === 0) return undefined;
    const result = await writeNote(this.root, this.path, push, false);
    return result;
  }
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
  push: boolean,
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
  const { commit, ...rest } = header;
  const line = { ...rest, ...(interrupted ? { interrupted: true } : {}), changes };
  const result = await appendRecord(root, commit, line, push);
  if (result.kept) rmSync(path, { force: true });
  return result;
}

/** Journals of runs that died before writing their note: each becomes its note now, marked interrupted. */
export async function recoverJournals(root: string, push: boolean): Promise<RecordResult[]> {
  const dir = join(root, '.iden', 'journal');
  if (!existsSync(dir)) return [];
  const results: RecordResult[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    try {
      results.push(await writeNote(root, join(dir, name), push, true));
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
