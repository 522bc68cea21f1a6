import { join } from 'node:path';
import type { Registry } from '../connectors/catalog.js';
import { loadCommitted } from '../git/committed.js';
import type { Clock } from '../model/clock.js';
import type { AccessRepo } from '../model/repo.js';
import { type Instant, zoneOf } from '../model/time.js';
import { acquireLock } from './lock.js';
import { repositoryRemovals } from './org-removals.js';
import { closeSessions, type Prepared, preparePlan } from './prepare.js';
import { recoverJournals, stateDir } from './records.js';
import type { RetryPolicy } from './retry.js';

export interface RunRequest {
  root: string;
  /** The instant to evaluate at, given the repository's time zone. */
  at: (zone: string) => Instant;
  app?: string | undefined;
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
  /** The run's clock, which connectors wait on. */
  clock?: Clock;
}

export interface Run {
  repo: AccessRepo;
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
  const release = await acquireLock(join(stateDir(request.root), 'lock'), {
    timeoutMs: request.lockTimeoutMs,
    command: request.command,
    onNotice: request.onNotice,
  });
  try {
    for (const recovered of await recoverJournals(request.root, {
      push: request.push,
      key: request.recordKey,
    }))
      request.onNotice(`a run that was killed left a journal: ${recovered.message}`);
    const { repo, commit, notices } = await loadCommitted(request.root);
    for (const notice of notices) request.onNotice(notice);
    request.check?.(repo);
    const zone = zoneOf(repo);
    const at = request.at(zone);
    const removals =
      request.app !== undefined && commit ? await repositoryRemovals(request.root, repo, at) : undefined;
    const prepared = await preparePlan({
      repo,
      commit,
      at,
      app: request.app,
      strict: request.strict,
      allowMassRemoval: request.allowMassRemoval,
      env: request.env,
      registry: request.registry,
      lockTimeoutMs: request.lockTimeoutMs,
      ...(request.embeddedTimeoutMs !== undefined ? { embeddedTimeoutMs: request.embeddedTimeoutMs } : {}),
      ...(removals ? { repositoryRemovals: removals } : {}),
      ...(request.retry ? { retryOptions: { retry: request.retry } } : {}),
      ...(request.clock ? { clock: request.clock } : {}),
      onNotice: request.onNotice,
      ...(request.clock ? { clock: request.clock } : {}),
    });
    return {
      repo,
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
