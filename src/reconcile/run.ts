import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../connectors/catalog.js';
import { OperatorError } from '../errors.js';
import { headCommit } from '../git/clone.js';
import { runStateDir, trackedState } from '../git/state.js';
import { type Committed, loadCommitted } from '../load/committed.js';
import { type Clock, systemClock } from '../model/clock.js';
import type { AccessRepo } from '../model/repo.js';
import { type Instant, zoneOf } from '../model/time.js';
import { acquireLock } from '../util/lock.js';
import { BranchLogs } from './branch.js';
import { repositoryRemovals } from './org-removals.js';
import { closeSessions, type Prepared, preparePlan } from './prepare.js';
import { recoverJournals } from './records.js';
import { type RetryOptions, type RetryPolicy, WaitBudget } from './retry.js';
import type { Standing } from './standing.js';

export interface RunRequest {
  root: string;
  /** The instant to evaluate at, given the repository's time zone. */
  at: (zone: string) => Instant;
  app?: string | undefined;
  /** Only these apps (iden serve's timer runs); undefined: every app (or `app`). */
  apps?: readonly string[] | undefined;
  strict: boolean;
  allowMassRemoval: boolean;
  env: NodeJS.ProcessEnv;
  registry: Registry;
  lockTimeoutMs: number;
  embeddedTimeoutMs?: number;
  retry?: RetryPolicy;
  /** The command, named in the lock and the records. */
  command: string;
  /** Whether records of earlier runs left by a killed run are pushed when recovered. */
  push: boolean;
  /** The key apply records are signed with (IDEN_RECORD_KEY), if any. */
  recordKey?: string | undefined;
  /** Checked once the repository is read: throws to refuse the run (an unknown --app). */
  check?: (repo: AccessRepo) => void;
  onNotice: (text: string) => void;
  /** A slow step of an app begins (observing, creating its embedded database): for progress on a terminal. */
  onProgress?: (app: string, text: string) => void;
  /** The run's clock, which connectors wait on. */
  clock?: Clock;
  /**
   * A long-lived process (iden serve) that holds the repository's lock for
   * its whole life: the run takes no lock of its own, and apps may keep what
   * is slow to open for the next run.
   */
  daemon?: boolean;
  /** The repository as HEAD has it, when the caller read it already (one read per pull). */
  committed?: Committed;
  /** Branch histories already read, kept by a long-lived caller so each commit's is read once. */
  branches?: BranchLogs;
  /** What a long-lived caller keeps between runs: what each derives from the same repository, made once. */
  standing?: Standing;
}

export interface Run {
  repo: AccessRepo;
  /** Where the run's journal goes: in the git directory, where no commit can put one. */
  journalDir: string;
  /** How the run retries: its policy, clock and the budget of waiting observe has started to spend. */
  retry: RetryOptions;
  /** The commit read; undefined for a folder that is not a git repository. */
  commit: string | undefined;
  zone: string;
  at: Instant;
  prepared: Prepared;
  /** Closes the apps and releases the lock. */
  close(): Promise<void>;
}

/**
 * Starts a run: takes the repository's lock (held through apply and record),
 * turns journals of killed runs into their records, reads the committed
 * repository, and plans it against freshly observed apps.
 */
export async function startRun(request: RunRequest): Promise<Run> {
  const { standing } = request;
  // A long-lived caller holds the lock for life (only its own pulls move HEAD): what git says of the
  // clone that only a commit changes is asked once a commit.
  const early = standing ? await headCommit(request.root) : undefined;
  const tracked = standing
    ? await standing.remember(`tracked:${early}`, () => trackedState(request.root))
    : await trackedState(request.root);
  if (tracked.length > 0)
    throw new OperatorError(
      `${tracked.length} file${tracked.length === 1 ? ' is' : 's are'} committed under .iden/ (${tracked.slice(0, 3).join(', ')}${tracked.length > 3 ? ', …' : ''}): iden's local state never comes from the repository. Remove ${tracked.length === 1 ? 'it' : 'them'} from git (git rm -r --cached .iden) and commit; nothing was changed`,
    );
  const state = standing
    ? await standing.remember(`state:${request.root}`, () => runStateDir(request.root))
    : await runStateDir(request.root);
  const journalDir = join(state, 'journal');
  mkdirSync(journalDir, { recursive: true });
  const release = request.daemon
    ? () => undefined
    : await acquireLock(join(state, 'lock'), {
        timeoutMs: request.lockTimeoutMs,
        command: request.command,
        onNotice: request.onNotice,
        ...(request.clock ? { clock: request.clock } : {}),
      });
  try {
    for (const recovered of await recoverJournals(
      request.root,
      { push: request.push, key: request.recordKey },
      journalDir,
    ))
      request.onNotice(
        `an earlier run left its journal without a record (it was killed, or its record could not be written): ${recovered.message}`,
      );
    // The branch's history is read beside the repository (git writes it while this process loads and validates).
    const head = early ?? (await headCommit(request.root));
    const branch = head ? (request.branches ?? new BranchLogs()).read(request.root, head) : undefined;
    branch?.catch(() => undefined);
    const { repo, commit, notices } = await committedNow(request.root, request.committed, head);
    for (const notice of notices) request.onNotice(notice);
    request.check?.(repo);
    const zone = zoneOf(repo);
    const at = request.at(zone);
    // One budget of waiting for the whole run, observe and apply alike, on the run's clock.
    const retry: RetryOptions = {
      ...(request.retry ? { retry: request.retry } : {}),
      ...(request.clock ? { clock: request.clock } : {}),
      budget: new WaitBudget(),
    };
    // A run of some apps counts what the whole repository removes (the mass-removal guard).
    const some =
      request.app !== undefined || (request.apps !== undefined && !coversEvery(request.apps, repo));
    const now = (request.clock ?? systemClock).now();
    const removals =
      some && commit
        ? request.standing
          ? await request.standing.removals(request.root, repo, commit, at, now)
          : await repositoryRemovals(request.root, repo, at, now, commit)
        : undefined;
    const prepared = await preparePlan({
      repo,
      commit,
      ...(branch && commit === head ? { branch } : {}),
      at,
      app: request.app,
      ...(request.apps ? { apps: request.apps } : {}),
      strict: request.strict,
      allowMassRemoval: request.allowMassRemoval,
      env: request.env,
      registry: request.registry,
      lockTimeoutMs: request.lockTimeoutMs,
      ...(request.embeddedTimeoutMs !== undefined ? { embeddedTimeoutMs: request.embeddedTimeoutMs } : {}),
      ...(removals ? { repositoryRemovals: removals } : {}),
      retryOptions: retry,
      onNotice: request.onNotice,
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      ...(request.clock ? { clock: request.clock } : {}),
      ...(request.daemon ? { keepWarm: true } : {}),
      ...(standing ? { facts: standing.of(repo), blobs: standing.blobs } : {}),
    });
    // Every run of serve indexes what its commit's grants give (target sharing): kept for the guard.
    if (standing && commit) standing.keep(commit, standing.of(repo).wanted);
    return {
      repo,
      journalDir,
      retry,
      commit,
      zone,
      at,
      prepared,
      close: async () => {
        try {
          await closeSessions(prepared.sessions);
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/** Whether the list names every app of the repository. */
function coversEvery(apps: readonly string[], repo: AccessRepo): boolean {
  const named = new Set(apps);
  return [...repo.apps.keys()].every((app) => named.has(app));
}

/** HEAD's repository: the caller's copy when it is of HEAD's commit, else read now. */
async function committedNow(
  root: string,
  given: Committed | undefined,
  head: string | undefined,
): Promise<Committed> {
  if (given?.commit && given.commit === head) return { ...given, notices: [] };
  return loadCommitted(root, head ?? 'HEAD');
}
