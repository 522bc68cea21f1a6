import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectors } from '../connectors/catalog.js';
import { commitExpired } from '../git/expire.js';
import { repositoryRoot } from '../git/state.js';
import { loadRepo } from '../load/repo.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import type { AccessRepo } from '../model/repo.js';
import { isoUtc } from '../model/time.js';
import type { ChangeResult } from '../reconcile/apply.js';
import { execute } from '../reconcile/execute.js';
import { endedGrants } from '../reconcile/expiry.js';
import type { Plan } from '../reconcile/plan.js';
import {
  PLAN_FORMAT_VERSION,
  PlanFileError,
  planDifferences,
  readPlanFile,
  repositoryIdentity,
  writePlanFile,
} from '../reconcile/plan-file.js';
import { type Run, startRun } from '../reconcile/run.js';
import { appStatuses } from '../reconcile/status.js';
import { formatDiagnostics } from '../report/diagnostics.js';
import { formatPlan, formatResults, type PlanFormat, type Style } from '../report/plan.js';
import { batched, jsonChunks } from '../util/json-stream.js';
import { idenVersion } from '../util/package-root.js';
import { DEFAULT_LOCK_TIMEOUT, EXIT, type Io, UsageError } from './io.js';
import { instantOption } from './options.js';

export interface RunOptions {
  /** After applying, delete ended grant files in one commit and push it. */
  commit?: boolean;
  /** Push the apply record (a git note) to the remote; commander's --no-push sets it false. */
  push?: boolean;
  repo?: string;
  at?: string;
  app?: string;
  strict?: boolean;
  allowMassRemoval?: boolean;
  lockTimeout?: string;
  /** Also append the apply record to this file: a copy kept outside git (a CI artifact). */
  recordFile?: string;
}

export async function begin(
  command: string,
  options: RunOptions,
  io: Io,
  at?: string,
): Promise<{ run: Run; style: Style }> {
  const root = await repositoryRoot(io.cwd, options.repo);
  const lockTimeoutMs = parseDuration(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT);
  if (lockTimeoutMs === undefined)
    throw new UsageError(`--lock-timeout must be a duration such as 30s or 5m, not "${options.lockTimeout}"`);
  const run = await startRun({
    root,
    at: (zone) => instantOption('--at', at ?? options.at, zone, io.clock.now()),
    app: options.app,
    strict: options.strict ?? false,
    allowMassRemoval: options.allowMassRemoval ?? false,
    env: io.env,
    registry: io.registry ?? connectors,
    lockTimeoutMs,
    ...(io.embeddedTimeoutMs !== undefined ? { embeddedTimeoutMs: io.embeddedTimeoutMs } : {}),
    ...(io.retry ? { retry: io.retry } : {}),
    clock: io.clock,
    command: `iden ${command}`,
    push: options.push ?? true,
    recordKey: io.env.IDEN_RECORD_KEY || undefined,
    check: (repo: AccessRepo) => {
      if (options.app !== undefined && !repo.apps.has(options.app))
        throw new UsageError(`--app ${options.app}: no such app (apps: ${[...repo.apps.keys()].join(', ')})`);
    },
    onNotice: (text) => io.stderr(`notice: ${text}\n`),
  });
  return { run, style: { color: io.interactive && !io.env.NO_COLOR, zone: run.zone } };
}

/** In GitHub Actions the plan also goes to the job's summary page: made only then. */
function summary(text: () => string, io: Io): void {
  if (io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${text()}\n`);
}

export function reportFatal(run: Run, io: Io): boolean {
  if (run.prepared.fatal.length === 0) return false;
  io.stderr(formatDiagnostics(run.prepared.fatal, 'text'));
  io.stderr(
    'iden: _settings.yaml and _people.yaml must validate before anything is planned; nothing was changed\n',
  );
  return true;
}

/** Whether the plan reports something that makes the run end non-zero. */
function hasErrors(plan: Plan): boolean {
  return plan.held.length > 0 || plan.skipped.some((s) => s.error) || plan.blocked.length > 0;
}

export async function runPlan(
  options: RunOptions & { format: PlanFormat; out?: string; detailedExitcode?: boolean },
  io: Io,
): Promise<number> {
  const { run, style } = await begin('plan', options, io);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    // JSON goes out in pieces: a million changes make a text near the longest string V8 holds.
    if (options.format === 'json') for (const piece of batched(jsonChunks(plan))) io.stdout(piece);
    else io.stdout(formatPlan(plan, options.format, style));
    summary(() => formatPlan(plan, 'markdown', style), io);
    if (options.out) {
      writePlanFile(resolve(io.cwd, options.out), {
        formatVersion: PLAN_FORMAT_VERSION,
        iden: idenVersion(),
        repository: await repositoryIdentity(run.repo.root, run.commit),
        commit: run.commit ?? null,
        scope: options.app !== undefined ? { app: options.app } : {},
        desired: run.prepared.desired,
        ...plan,
      });
    }
    if (hasErrors(plan)) return EXIT.failed;
    return options.detailedExitcode && plan.changes.length > 0 ? EXIT.changes : EXIT.ok;
  } finally {
    await run.close();
  }
}

/** `iden apply` without a plan file and `iden reconcile`: plan, ask, apply, record. */
export async function runReconcile(
  options: RunOptions & { yes?: boolean },
  io: Io,
  command = 'reconcile',
): Promise<number> {
  const { run, style } = await begin(command, options, io);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    io.stdout(formatPlan(plan, 'text', style));
    if (plan.blocked.length > 0) {
      summary(() => formatPlan(plan, 'markdown', style), io);
      return EXIT.failed;
    }
    if (plan.changes.length > 0 && !(await confirmed(options.yes, io))) {
      io.stderr('iden: nothing was changed\n');
      return EXIT.failed;
    }
    const outcome = await executeAndSay(run, plan, command, options, io);
    summary(
      () => `${formatPlan(plan, 'markdown', style)}\n${'```'}\n${formatResults(outcome.results)}${'```'}`,
      io,
    );
    if (options.commit && outcome.complete) {
      const expired = endedGrants(run.repo, run.zone, plan, outcome.results);
      const date = options.at !== undefined ? isoUtc(run.at) : undefined;
      for (const note of await commitExpired(run.repo.root, expired, options.push ?? true, date))
        io.stderr(`notice: ${note}\n`);
    }
    const failed =
      hasErrors(plan) || !outcome.complete || outcome.results.some((r) => r.outcome === 'failed');
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}

/**
 * `iden apply plan.json`: executes a saved plan only if it is exactly what
 * planning its commit at its instant gives now, from the same repository,
 * with what the apps hold unchanged. It asks first, as apply always does.
 */
export async function runApplySaved(
  file: string,
  options: RunOptions & { yes?: boolean },
  io: Io,
): Promise<number> {
  let saved: ReturnType<typeof readPlanFile>;
  try {
    saved = readPlanFile(resolve(io.cwd, file));
  } catch (e) {
    if (e instanceof PlanFileError) throw new UsageError(e.message);
    throw e;
  }
  if (options.app !== undefined && options.app !== saved.scope.app)
    throw new UsageError(`--app ${options.app}: the saved plan covers ${saved.scope.app ?? 'every app'}`);
  if (saved.blocked.length > 0 && !options.allowMassRemoval) {
    for (const b of saved.blocked) io.stderr(`blocked: ${b}\n`);
    io.stderr('iden: the saved plan was blocked by the safety gates; plan again with --allow-mass-removal\n');
    return EXIT.failed;
  }
  const scoped: RunOptions = { ...options };
  if (saved.scope.app !== undefined) scoped.app = saved.scope.app;
  const { run, style } = await begin('apply', scoped, io, saved.at);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const differences = planDifferences(saved, {
      repository: await repositoryIdentity(run.repo.root, run.commit),
      commit: run.commit ?? null,
      plan: run.prepared.plan,
      desired: run.prepared.desired,
    });
    if (differences.length > 0) {
      for (const d of differences) io.stderr(`iden: ${d}\n`);
      io.stderr('iden: the saved plan was not applied; nothing was changed\n');
      return EXIT.failed;
    }
    const { plan } = run.prepared;
    io.stdout(formatPlan(plan, 'text', style));
    if (plan.changes.length > 0 && !(await confirmed(options.yes, io))) {
      io.stderr('iden: nothing was changed\n');
      return EXIT.failed;
    }
    const outcome = await executeAndSay(run, plan, 'apply', options, io);
    summary(
      () => `${formatPlan(plan, 'markdown', style)}\n${'```'}\n${formatResults(outcome.results)}${'```'}`,
      io,
    );
    return !outcome.complete || outcome.results.some((r) => r.outcome === 'failed') ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}

export async function runApps(options: { repo?: string; format: 'text' | 'json' }, io: Io): Promise<number> {
  const repo = await loadRepo(await repositoryRoot(io.cwd, options.repo));
  const ids = [...repo.apps.keys()];
  io.stdout(options.format === 'json' ? `${JSON.stringify(ids)}\n` : ids.map((id) => `${id}\n`).join(''));
  return EXIT.ok;
}

export async function runStatus(options: RunOptions & { format: 'text' | 'json' }, io: Io): Promise<number> {
  const { run } = await begin('status', options, io);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    const ids = [...run.repo.apps.keys()].filter((id) => options.app === undefined || id === options.app);
    const apps = appStatuses(plan, ids);
    if (options.format === 'json') io.stdout(`${JSON.stringify({ at: plan.at, apps }, null, 2)}\n`);
    else {
      for (const a of apps) {
        const counts = `${a.grant} to grant, ${a.revoke} to revoke, ${a.drift} drift, ${a.held} held`;
        io.stdout(`${a.app.padEnd(20)} ${a.state.padEnd(12)} ${a.reason ?? counts}\n`);
      }
    }
    return apps.some((a) => a.state === 'unreachable' || a.state === 'held') ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}

async function confirmed(yes: boolean | undefined, io: Io): Promise<boolean> {
  if (yes) return true;
  if (!io.interactive) throw new UsageError('not on a terminal: pass --yes to apply without being asked');
  return io.confirm('Apply these changes?');
}

/** Apply and record (reconcile/execute.ts), saying on the terminal what it did. */
async function executeAndSay(
  run: Run,
  plan: Plan,
  command: string,
  options: RunOptions,
  io: Io,
): Promise<{ results: ChangeResult[]; complete: boolean }> {
  const live = io.interactive && !io.env.CI;
  const outcome = await execute(run, plan, {
    command,
    started: io.clock.now(),
    pinned: options.at !== undefined,
    push: options.push ?? true,
    key: io.env.IDEN_RECORD_KEY || undefined,
    copy: options.recordFile ? resolve(io.cwd, options.recordFile) : undefined,
    env: io.env,
    onAppWait: (app, ms, e) =>
      io.stderr(`notice: ${app}: waiting ${formatDuration(ms)} before trying again: ${e.message}\n`),
    onProgress: (app, count, total) => {
      if (live) io.stderr(`\r${app}: ${count}/${total}${count === total ? '\n' : ''}`);
      else if (count === total) io.stderr(`${app}: ${count}/${total} done\n`);
    },
  });
  if (outcome.stopped) io.stderr(`iden: ${outcome.stopped}; the run stopped\n`);
  if (plan.changes.length > 0) io.stdout(formatResults(outcome.results));
  if (outcome.stopped)
    io.stderr(`iden: ${outcome.results.length} changes were made before it stopped; they are listed above\n`);
  if (!run.commit && plan.changes.length > 0)
    io.stderr('notice: not a git repository with commits: the apply record was not kept\n');
  const record = outcome.record;
  if (record) io.stderr(`${record.kept && !record.pushFailed ? 'notice' : 'warning'}: ${record.message}\n`);
  return { results: outcome.results, complete: outcome.complete };
}
