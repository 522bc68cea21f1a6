import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { connectors } from '../connectors/registry.js';
import type { Session } from '../connectors/types.js';
import { commitExpired, type Expired } from '../git/expire.js';
import { appendRecord } from '../git/notes.js';
import { loadRepo } from '../load/repo.js';
import type { AccessRepo } from '../model/repo.js';
import { humanTime, isTimeZone } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { applyChanges, type ChangeResult } from '../reconcile/apply.js';
import type { Plan } from '../reconcile/plan.js';
import { closeSessions, type Prepared, preparePlan } from '../reconcile/prepare.js';
import { formatDiagnostics } from '../report/diagnostics.js';
import { formatPlan, formatResults, type PlanFormat, type Style } from '../report/plan.js';
import { EXIT, type Io, UsageError } from './io.js';
import { atOption } from './options.js';

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
}

interface Context {
  repo: AccessRepo;
  style: Style;
  prepared: Prepared;
}

async function prepare(options: RunOptions, io: Io): Promise<Context> {
  const repo = await loadRepo(resolve(io.cwd, options.repo ?? '.'));
  if (options.app !== undefined && !repo.apps.has(options.app)) {
    throw new UsageError(`--app ${options.app}: no such app (apps: ${[...repo.apps.keys()].join(', ')})`);
  }
  const at = atOption(options.at, repo);
  const prepared = await preparePlan({
    repo,
    at,
    app: options.app,
    strict: options.strict ?? false,
    allowMassRemoval: options.allowMassRemoval ?? false,
    env: io.env,
    registry: io.registry ?? connectors,
    onNotice: (text) => io.stderr(`notice: ${text}\n`),
  });
  const zone = repo.settings?.value?.timezone;
  const style = { color: io.interactive && !io.env.NO_COLOR, zone: zone && isTimeZone(zone) ? zone : 'UTC' };
  return { repo, style, prepared };
}

/** In GitHub Actions the plan also goes to the job's summary page. */
function summary(plan: Plan, ctx: Context, io: Io): void {
  if (io.env.GITHUB_STEP_SUMMARY)
    appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${formatPlan(plan, 'markdown', ctx.style)}\n`);
}

function reportFatal(ctx: Context, io: Io): boolean {
  if (ctx.prepared.fatal.length === 0) return false;
  io.stderr(formatDiagnostics(ctx.prepared.fatal, 'text'));
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
  const ctx = await prepare(options, io);
  try {
    if (reportFatal(ctx, io)) return EXIT.failed;
    const { plan } = ctx.prepared;
    io.stdout(formatPlan(plan, options.format, ctx.style));
    summary(plan, ctx, io);
    if (options.out) writeFileSync(resolve(io.cwd, options.out), `${JSON.stringify(plan, null, 2)}\n`);
    if (hasErrors(plan)) return EXIT.failed;
    return options.detailedExitcode && plan.changes.length > 0 ? EXIT.changes : EXIT.ok;
  } finally {
    await closeSessions(ctx.prepared.sessions);
  }
}

/** `iden apply` without a plan file and `iden reconcile`: plan, ask, apply. */
export async function runReconcile(options: RunOptions & { yes?: boolean }, io: Io): Promise<number> {
  const ctx = await prepare(options, io);
  try {
    if (reportFatal(ctx, io)) return EXIT.failed;
    const { plan, sessions } = ctx.prepared;
    io.stdout(formatPlan(plan, 'text', ctx.style));
    summary(plan, ctx, io);
    if (plan.blocked.length > 0) return EXIT.failed;
    if (plan.changes.length > 0 && !(await confirmed(options.yes, io))) {
      io.stderr('iden: nothing was changed\n');
      return EXIT.failed;
    }
    const results = await execute(plan, sessions, io);
    await record(ctx, plan, results, 'reconcile', options, io);
    if (options.commit) {
      const expired = endedGrants(ctx, plan, results);
      for (const note of await commitExpired(ctx.repo.root, expired, options.push ?? true))
        io.stderr(`notice: ${note}\n`);
    }
    return hasErrors(plan) || results.some((r) => r.outcome === 'failed') ? EXIT.failed : EXIT.ok;
  } finally {
    await closeSessions(ctx.prepared.sessions);
  }
}

/** `iden apply plan.json`: executes exactly the saved plan, unless what the apps hold has changed since. */
export async function runApplySaved(file: string, options: RunOptions, io: Io): Promise<number> {
  const saved = readPlan(resolve(io.cwd, file));
  if (saved.blocked.length > 0 && !options.allowMassRemoval) {
    for (const b of saved.blocked) io.stderr(`blocked: ${b}\n`);
    io.stderr('iden: the saved plan was blocked by the safety gates; plan again with --allow-mass-removal\n');
    return EXIT.failed;
  }
  const ctx = await prepare({ ...options, at: saved.at, allowMassRemoval: true }, io);
  try {
    if (reportFatal(ctx, io)) return EXIT.failed;
    const stale = Object.entries(saved.observed).filter(([app, digest]) => {
      const session = ctx.prepared.sessions.get(app);
      return !session || ctx.prepared.plan.observed[app] !== digest;
    });
    if (stale.length > 0) {
      io.stderr(
        `iden: the plan is stale: what ${stale.map(([app]) => app).join(', ')} hold${stale.length === 1 ? 's' : ''} changed since it was made (or cannot be read now); run iden plan again. Nothing was changed.\n`,
      );
      return EXIT.failed;
    }
    io.stdout(formatPlan(saved, 'text', ctx.style));
    const results = await execute(saved, ctx.prepared.sessions, io);
    await record(ctx, saved, results, 'apply', options, io);
    return results.some((r) => r.outcome === 'failed') ? EXIT.failed : EXIT.ok;
  } finally {
    await closeSessions(ctx.prepared.sessions);
  }
}

export async function runApps(options: { repo?: string; format: 'text' | 'json' }, io: Io): Promise<number> {
  const repo = await loadRepo(resolve(io.cwd, options.repo ?? '.'));
  const ids = [...repo.apps.keys()];
  io.stdout(options.format === 'json' ? `${JSON.stringify(ids)}\n` : ids.map((id) => `${id}\n`).join(''));
  return EXIT.ok;
}

export async function runStatus(options: RunOptions & { format: 'text' | 'json' }, io: Io): Promise<number> {
  const ctx = await prepare(options, io);
  try {
    if (reportFatal(ctx, io)) return EXIT.failed;
    const { plan } = ctx.prepared;
    const apps = [...ctx.repo.apps.keys()]
      .filter((id) => options.app === undefined || id === options.app)
      .map((id) => {
        const skipped = plan.skipped.find((s) => s.app === id);
        const grant = plan.changes.filter((c) => c.app === id && c.action === 'grant').length;
        const revoke = plan.changes.filter((c) => c.app === id && c.action === 'revoke').length;
        const drift = plan.drift.filter((c) => c.app === id).length;
        const held = plan.held.filter((h) => h.app === id).length;
        const state = skipped
          ? skipped.error
            ? 'unreachable'
            : 'skipped'
          : grant + revoke > 0
            ? 'pending'
            : drift > 0
              ? 'drift'
              : 'in-sync';
        return { app: id, state, grant, revoke, drift, held, ...(skipped ? { reason: skipped.reason } : {}) };
      });
    if (options.format === 'json') io.stdout(`${JSON.stringify({ at: plan.at, apps }, null, 2)}\n`);
    else {
      for (const a of apps) {
        const counts = `${a.grant} to grant, ${a.revoke} to revoke, ${a.drift} drift, ${a.held} held`;
        io.stdout(`${a.app.padEnd(20)} ${a.state.padEnd(12)} ${a.reason ?? counts}\n`);
      }
    }
    return apps.some((a) => a.state === 'unreachable') ? EXIT.failed : EXIT.ok;
  } finally {
    await closeSessions(ctx.prepared.sessions);
  }
}

async function confirmed(yes: boolean | undefined, io: Io): Promise<boolean> {
  if (yes) return true;
  if (!io.interactive) throw new UsageError('not on a terminal: pass --yes to apply without being asked');
  return io.confirm('Apply these changes?');
}

async function execute(plan: Plan, sessions: Map<string, Session>, io: Io): Promise<ChangeResult[]> {
  if (plan.changes.length === 0) return [];
  const live = io.interactive && !io.env.CI;
  const results = await applyChanges(plan.changes, sessions, {
    ...(io.retry ? { retry: io.retry } : {}),
    onProgress: (app, done, total) => {
      if (live) io.stderr(`\r${app}: ${done}/${total}${done === total ? '\n' : ''}`);
      else if (done === total) io.stderr(`${app}: ${done}/${total} done\n`);
    },
  });
  io.stdout(formatResults(results));
  return results;
}

/**
 * Grant files whose end has passed and whose access is gone: the app was
 * observed this run and no removal for that person failed. A file whose
 * access could not be removed stays, so the next run tries again.
 */
function endedGrants(ctx: Context, plan: Plan, results: ChangeResult[]): Expired[] {
  const at = Date.parse(plan.at);
  const failed = new Set(results.filter((r) => r.outcome === 'failed').map((r) => `${r.app}\u0000${r.user}`));
  const observed = new Set(Object.keys(plan.observed));
  const expired: Expired[] = [];
  for (const grant of ctx.repo.grants) {
    const value = grant.value;
    if (!value || !observed.has(value.app) || failed.has(`${value.app}\u0000${value.user}`)) continue;
    const window = grantWindow(value, ctx.style.zone);
    if (window?.end === undefined || window.end > at) continue;
    expired.push({
      file: grant.file,
      user: value.user,
      app: value.app,
      ended: humanTime(window.end, ctx.style.zone),
    });
  }
  return expired;
}

/** Keeps what the run did as a git note on the commit it reconciled (refs/notes/iden), for iden audit. */
async function record(
  ctx: Context,
  plan: Plan,
  results: ChangeResult[],
  command: string,
  options: RunOptions,
  io: Io,
): Promise<void> {
  if (results.length === 0) return;
  const history = simpleGit({ baseDir: ctx.repo.root });
  const head = (await history.raw(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '')).trim();
  if (!head) {
    io.stderr('notice: not a git repository with commits: the apply record was not kept\n');
    return;
  }
  const changes = results.map(
    ({ action, app, user, account, entitlement, license, reason, outcome, error }) => ({
      action,
      app,
      user,
      account,
      ...(entitlement !== undefined ? { entitlement } : {}),
      ...(license !== undefined ? { license } : {}),
      reason,
      outcome,
      ...(error !== undefined ? { error } : {}),
    }),
  );
  const line = { run: new Date().toISOString(), at: plan.at, command, changes };
  const result = await appendRecord(ctx.repo.root, head, line, options.push ?? true);
  io.stderr(`${result.kept ? 'notice' : 'warning'}: ${result.message}\n`);
}

function readPlan(path: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as Plan;
  } catch (e) {
    throw new UsageError(`cannot read the plan ${path}: ${(e as Error).message}`);
  }
  const ok =
    plan &&
    typeof plan.at === 'string' &&
    Array.isArray(plan.changes) &&
    Array.isArray(plan.blocked) &&
    plan.observed &&
    typeof plan.observed === 'object' &&
    plan.changes.every(
      (c) =>
        (c.action === 'grant' || c.action === 'revoke') &&
        typeof c.app === 'string' &&
        typeof c.account === 'string' &&
        (typeof c.entitlement === 'string' || typeof c.license === 'string'),
    );
  if (!ok) throw new UsageError(`${path} is not a plan written by iden plan --out`);
  return plan;
}
