import type { Registry } from '../connectors/catalog.js';
import type { Committed } from '../load/committed.js';
import type { Clock } from '../model/clock.js';
import type { ChangeResult } from '../reconcile/apply.js';
import type { BranchLogs } from '../reconcile/branch.js';
import { execute } from '../reconcile/execute.js';
import type { RetryPolicy } from '../reconcile/retry.js';
import { startRun } from '../reconcile/run.js';
import type { Standing } from '../reconcile/standing.js';

export interface RunOnceOptions {
  root: string;
  /** Only this app; undefined: every app. */
  app?: string | undefined;
  /** Only these apps (a timer's: those whose grants start or end); undefined: every app. */
  apps?: readonly string[] | undefined;
  push: boolean;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  registry: Registry;
  lockTimeoutMs: number;
  retry?: RetryPolicy | undefined;
  committed?: Committed | undefined;
  /** The daemon's branch histories: each commit's read once, whatever the number of runs there. */
  branches?: BranchLogs | undefined;
  /** What the daemon keeps between runs: what each run derives from the same commit, made once a pull. */
  standing?: Standing | undefined;
  onNotice: (text: string) => void;
}

/** What a run did, as values: the daemon's log, metrics and health read these, never printed text. */
export interface RunReport {
  ok: boolean;
  /** The instant the run evaluated grants at. */
  at: number;
  commit: string | undefined;
  changes: ChangeResult[];
  skipped: { app: string; reason: string; error: boolean }[];
  held: { app: string; user: string; reason: string }[];
  blocked: string[];
  /** Why the run could not do its work at all (settings that do not validate, a record not kept). */
  problem?: string;
}

/**
 * One reconcile of the daemon's clone, through the core: plan at the clock's
 * instant, apply what the safety gates allow, record. The daemon holds the
 * repository's lock for its whole life, so the run takes none.
 */
export async function runOnce(options: RunOnceOptions): Promise<RunReport> {
  const at = options.clock.now();
  const run = await startRun({
    root: options.root,
    at: () => at,
    app: options.app,
    ...(options.apps ? { apps: options.apps } : {}),
    strict: false,
    allowMassRemoval: false,
    env: options.env,
    registry: options.registry,
    lockTimeoutMs: options.lockTimeoutMs,
    ...(options.retry ? { retry: options.retry } : {}),
    command: 'iden serve',
    push: options.push,
    recordKey: options.env.IDEN_RECORD_KEY || undefined,
    onNotice: options.onNotice,
    clock: options.clock,
    daemon: true,
    ...(options.committed ? { committed: options.committed } : {}),
    ...(options.branches ? { branches: options.branches } : {}),
    ...(options.standing ? { standing: options.standing } : {}),
  });
  try {
    const { plan, fatal } = run.prepared;
    const report: RunReport = {
      ok: true,
      at,
      commit: run.commit,
      changes: [],
      skipped: plan.skipped,
      held: plan.held,
      blocked: plan.blocked,
    };
    if (fatal.length > 0)
      return {
        ...report,
        ok: false,
        problem: `${fatal[0]!.file}:${fatal[0]!.line}: ${fatal[0]!.message} (the settings and the people must validate)`,
      };
    if (plan.blocked.length > 0) return { ...report, ok: false, problem: plan.blocked.join('; ') };
    const done = await execute(run, plan, {
      command: 'serve',
      started: at,
      pinned: false,
      push: options.push,
      key: options.env.IDEN_RECORD_KEY || undefined,
      env: options.env,
      onAppWait: (app, ms, e) =>
        options.onNotice(`${app}: waiting ${Math.round(ms / 1000)}s before trying again: ${e.message}`),
    });
    const failed =
      !done.complete ||
      done.results.some((r) => r.outcome === 'failed') ||
      plan.held.length > 0 ||
      plan.skipped.some((s) => s.error);
    return {
      ...report,
      ok: !failed,
      changes: done.results,
      ...(done.stopped
        ? { problem: done.stopped }
        : done.record && (!done.record.kept || done.record.pushFailed)
          ? { problem: done.record.message }
          : {}),
    };
  } finally {
    await run.close();
  }
}
