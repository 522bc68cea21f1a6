// What plan, apply, reconcile and status share on the command line: starting
// a run from the flags, saying what is fatal, asking before applying, and
// applying and recording with progress on the terminal. Loaded only when one
// of them runs.
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectors } from '../connectors/catalog.js';
import { commitExpired } from '../git/expire.js';
import { repositoryRoot } from '../git/state.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import { instantOption } from '../model/instant.js';
import type { AccessRepo } from '../model/repo.js';
import { isoUtc } from '../model/time.js';
import type { ChangeResult } from '../reconcile/apply.js';
import { execute } from '../reconcile/execute.js';
import { endedGrants } from '../reconcile/expiry.js';
import type { Plan } from '../reconcile/plan.js';
import { type Run, startRun } from '../reconcile/run.js';
import { formatDiagnostics } from '../report/diagnostics.js';
import { paint } from '../report/paint.js';
import { formatPlan, formatResults, type Style } from '../report/plan.js';
import { count } from '../util/plural.js';
import type { RunOptions } from './engine-options.js';
import { colourOn, DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io, UsageError } from './io.js';
import { progress } from './progress.js';

export async function begin(
  command: string,
  options: RunOptions,
  io: Io,
  engine: Engine,
  at?: string,
  /** The command's output is JSON: no progress lines, even on a terminal. */
  quiet = false,
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
    registry: engine.registry ?? connectors,
    lockTimeoutMs,
    ...(engine.embeddedTimeoutMs !== undefined ? { embeddedTimeoutMs: engine.embeddedTimeoutMs } : {}),
    ...(engine.retry ? { retry: engine.retry } : {}),
    clock: io.clock,
    command: `iden ${command}`,
    push: options.push ?? true,
    recordKey: io.env.IDEN_RECORD_KEY || undefined,
    check: (repo: AccessRepo) => {
      if (options.app !== undefined && !repo.apps.has(options.app))
        throw new UsageError(`--app ${options.app}: no such app (apps: ${[...repo.apps.keys()].join(', ')})`);
    },
    onNotice: (text) => io.stderr(`notice: ${text}\n`),
    onProgress: progress(io, quiet).step,
  });
  return { run, style: { color: colourOn(io), zone: run.zone } };
}

/** In GitHub Actions the plan also goes to the job's summary page (built only then). */
export function summary(text: () => string, io: Io): void {
  if (io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${text()}\n`);
}

export function reportFatal(run: Run, io: Io): boolean {
  if (run.prepared.fatal.length === 0) return false;
  io.stderr(formatDiagnostics(run.prepared.fatal, 'text', paint(colourOn(io, 'stderr'))));
  io.stderr(
    'iden: _settings.yaml and _people.yaml must validate before anything is planned; nothing was changed\n',
  );
  return true;
}

/** Whether the plan reports something that makes the run end non-zero. */
export function hasErrors(plan: Plan): boolean {
  return plan.held.length > 0 || plan.skipped.some((s) => s.error) || plan.blocked.length > 0;
}

/** `iden apply` without a plan file and `iden reconcile`: plan, ask, apply, record. */
export async function planAskApply(
  options: RunOptions & { yes?: boolean },
  io: Io,
  engine: Engine,
  command: 'apply' | 'reconcile',
): Promise<number> {
  const { run, style } = await begin(command, options, io, engine);
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

export async function confirmed(yes: boolean | undefined, io: Io): Promise<boolean> {
  if (yes) return true;
  if (!io.interactive) throw new UsageError('not on a terminal: pass --yes to apply without being asked');
  return (await io.questions(false)).confirm({ message: 'Apply these changes?', default: false });
}

/** Apply and record (reconcile/execute.ts), saying on the terminal what it did. */
export async function executeAndSay(
  run: Run,
  plan: Plan,
  command: string,
  options: RunOptions,
  io: Io,
): Promise<{ results: ChangeResult[]; complete: boolean }> {
  const shown = progress(io);
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
    onProgress: shown.applied,
  });
  if (outcome.stopped) io.stderr(`iden: ${outcome.stopped}; the run stopped\n`);
  if (plan.changes.length > 0) io.stdout(formatResults(outcome.results, colourOn(io)));
  for (const n of outcome.emergency ?? [])
    io.stderr(
      `${n.sent ? 'notice' : 'warning'}: emergency access ${n.file} ${n.sent ? 'notified' : `NOT notified (${n.why})`}: ${n.text}\n`,
    );
  if (outcome.stopped)
    io.stderr(
      `iden: ${count(outcome.results.length, 'change was', 'changes were')} made before it stopped; they are listed above\n`,
    );
  if (!run.commit && plan.changes.length > 0)
    io.stderr('notice: not a git repository with commits: the apply record was not kept\n');
  const record = outcome.record;
  if (record) io.stderr(`${record.kept && !record.pushFailed ? 'notice' : 'warning'}: ${record.message}\n`);
  return { results: outcome.results, complete: outcome.complete };
}
