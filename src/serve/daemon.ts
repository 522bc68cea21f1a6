import type { Server } from 'node:http';
import { Cron } from 'croner';
import type { Registry } from '../connectors/catalog.js';
import { closeWarm } from '../connectors/warm.js';
import { OperatorError, UsageError } from '../errors.js';
import { changedApps, checkedOut, localChanges, pullBranch, remoteDefaultBranch } from '../git/clone.js';
import { runStateDir } from '../git/state.js';
import { type Committed, loadCommitted } from '../load/committed.js';
import type { Clock, Timer } from '../model/clock.js';
import { isoUtc, zoneOf } from '../model/time.js';
import { BranchLogs } from '../reconcile/branch.js';
import type { RetryPolicy } from '../reconcile/retry.js';
import { Standing } from '../reconcile/standing.js';
import { fullCollection } from '../util/heap.js';
import { acquireLock } from '../util/lock.js';
import { address, listen, send } from './http.js';
import type { Logger } from './log.js';
import { sendNotices } from './notices.js';
import { reviewDuties } from './reviews.js';
import { type RunReport, runOnce } from './run-once.js';
import { appsDue, nextChange } from './schedule.js';
import { type DaemonState, health, metrics, newState } from './status.js';
import { webhook } from './webhook.js';

export interface DaemonOptions {
  root: string;
  /** The branch to follow; default: the one the remote's HEAD names. */
  branch?: string | undefined;
  pullMs: number;
  /** Cron for full reconciles. */
  schedule: string;
  listen: string;
  push: boolean;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  registry: Registry;
  log: Logger;
  lockTimeoutMs: number;
  retry?: RetryPolicy | undefined;
}

export interface Daemon {
  /** Where its HTTP server listens (HOST:PORT). */
  address: string;
  state: DaemonState;
  /** Resolves once no run is in flight or waiting (tests wait on it, never on time). */
  idle(): Promise<void>;
  /** Finishes the run in flight, then stops everything. */
  stop(): Promise<void>;
}

/** Runs requested while another runs: every app, or these. */
/** How far off the next timer must be for the heap to be collected whole now (collectAfterLoad). */
const IDLE_MS = 5_000;

type Wanted = { why: string; apps: Set<string> | 'all'; pull: boolean };

/**
 * `iden serve`'s core: follows the reviewed branch of a clone made for it,
 * reconciles to the second when a grant starts or ends, on a schedule, after
 * a pull that brings changes and on a signed push webhook; one run at a
 * time, on its clock. It calls the reconcile core and reads typed results.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { root, clock, log } = options;
  const branch = await followedBranch(root, options.branch);
  // The clone is this daemon's: no other iden run may use it meanwhile (its embedded databases stay open).
  const releaseLock = await acquireLock(`${await runStateDir(root)}/lock`, {
    timeoutMs: options.lockTimeoutMs,
    command: 'iden serve',
    clock,
    onNotice: (text) => log('warn', 'lock', { text }),
  });
  const state = newState(branch);
  let committed: Committed | undefined;
  // Kept between runs: the branch's history is read once per commit the daemon acts on.
  const branches = new BranchLogs();
  const standing = new Standing();
  let handledUpTo = clock.now();
  let timer: Timer | undefined;
  let scheduleTimer: Timer | undefined;
  let pullTimer: Timer | undefined;
  let stopping = false;
  let wanted: Wanted | undefined;
  let running: Promise<void> | undefined;
  let pulling: Promise<void> | undefined;
  let server: Server | undefined;
  const reviews = reviewDuties({
    root,
    env: options.env,
    clock,
    log,
    wake: (why) => request(why, 'all', true),
  });

  /** Fetches and fast-forwards; the apps a move changed ('all' when it touched what every app reads). */
  const pull = async (): Promise<string[] | 'all' | undefined> => {
    try {
      const pulled = await pullBranch(root, branch);
      if ('diverged' in pulled) {
        state.pullError = `${branch} (${pulled.head.slice(0, 12)}) is not on origin/${branch} (${pulled.remote.slice(0, 12)}): a commit the remote does not have is never applied; make the clone again`;
        log('error', 'pull refused', { error: state.pullError });
        return undefined;
      }
      state.lastPull = clock.now();
      state.pullError = '';
      if (!pulled.moved) return undefined;
      log('info', 'pulled', { from: pulled.from.slice(0, 12), to: pulled.to.slice(0, 12) });
      committed = await loadCommitted(root);
      return changedApps(root, pulled.from, pulled.to);
    } catch (e) {
      state.pullError = `cannot pull origin/${branch}: ${(e as Error).message.trim().split('\n')[0]}`;
      log('error', 'pull failed', { error: state.pullError });
      return undefined;
    }
  };

  /** Asks for a run; merged with one already waiting. A run in flight is never interrupted. */
  const request = (why: string, apps: string[] | 'all', pullFirst: boolean) => {
    if (stopping || (apps !== 'all' && apps.length === 0)) return;
    if (!wanted) wanted = { why, apps: apps === 'all' ? 'all' : new Set(apps), pull: pullFirst };
    else {
      wanted.pull ||= pullFirst;
      if (wanted.apps !== 'all') wanted.apps = apps === 'all' ? 'all' : new Set([...wanted.apps, ...apps]);
    }
    running ??= loop().finally(() => {
      running = undefined;
    });
  };

  /**
   * Once a run of a newly read commit is done and nothing waits, the heap is
   * collected whole: the last repository and the run's loading are garbage
   * (some 600 MB at 100,000 grants), and V8 would otherwise collect them in
   * whichever later run crossed its limit, a timer run's cost going from
   * about 0.1 s to 0.7 s of CPU. Not when a timer is due within IDLE_MS: it
   * waits for the next quiet moment.
   */
  let collectedFor: Committed | undefined;
  const collectAfterLoad = () => {
    if (!committed || committed === collectedFor) return;
    if (state.nextTimer !== undefined && state.nextTimer - clock.now() < IDLE_MS) return;
    collectedFor = committed;
    const collect = fullCollection();
    if (!collect) return;
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    collect();
    log('info', 'heap collected', {
      ms: Math.round(performance.now() - started),
      beforeMb: Math.round(before / 2 ** 20),
      afterMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    });
  };

  const loop = async () => {
    while (wanted && !stopping) {
      const next = wanted;
      wanted = undefined;
      if (next.pull) {
        const moved = await pull();
        if (moved === 'all') next.apps = 'all';
        else if (moved && next.apps !== 'all') for (const app of moved) next.apps.add(app);
      }
      if (state.pullError) {
        finished(next.why, undefined, state.pullError);
        continue;
      }
      const apps = next.apps === 'all' ? undefined : [...next.apps];
      log('info', 'run', { why: next.why, ...(apps ? { apps } : {}) });
      const started = clock.now();
      // Read once per commit and handed to every run, the timers and the notices: never once per run.
      committed ??= await loadCommitted(root).catch(() => undefined);
      try {
        const report = await runOnce({
          root,
          apps,
          push: options.push,
          env: options.env,
          clock,
          registry: options.registry,
          lockTimeoutMs: options.lockTimeoutMs,
          retry: options.retry,
          committed,
          branches,
          standing,
          onNotice: (text) => log('info', 'notice', { text }),
        });
        finished(next.why, report, undefined, clock.now() - started);
        if (report.commit) handledUpTo = Math.max(handledUpTo, report.at);
      } catch (e) {
        finished(next.why, undefined, (e as Error).message);
      }
      committed ??= await loadCommitted(root).catch(() => undefined);
      if (committed) await sendNotices(root, committed.repo, clock.now(), options.env, log);
      await reviews.run(committed);
      arm();
      if (!wanted) collectAfterLoad();
    }
  };

  const finished = (why: string, report: RunReport | undefined, problem?: string, ms?: number) => {
    const ok = report ? report.ok : false;
    for (const c of report?.changes ?? []) {
      log(c.outcome === 'failed' ? 'error' : 'info', 'change', {
        action: c.action,
        app: c.app,
        user: c.user,
        access: c.entitlement ?? c.license,
        reason: c.reason,
        outcome: c.outcome,
        ...(c.error ? { error: c.error } : {}),
      });
      const key = `${c.action}\u0000${c.app}`;
      state.changes.set(key, (state.changes.get(key) ?? 0) + 1);
    }
    for (const s of report?.skipped ?? [])
      log(s.error ? 'error' : 'warn', 'skipped', { app: s.app, why: s.reason });
    for (const h of report?.held ?? []) log('warn', 'held', { app: h.app, user: h.user, why: h.reason });
    state.unreachable = (report?.skipped ?? []).filter((s) => s.error).length;
    const why_ = problem ?? report?.problem;
    const outcome = ok ? 'success' : 'failure';
    state.runs.set(outcome, (state.runs.get(outcome) ?? 0) + 1);
    state.lastRun = {
      ok,
      at: clock.now(),
      ...(ok ? {} : { why: why_ ?? 'some changes failed, or apps were skipped or held' }),
    };
    if (ok) state.lastSuccess = clock.now();
    log(ok ? 'info' : 'error', 'run finished', {
      why,
      outcome,
      ...(ms !== undefined ? { ms } : {}),
      ...(why_ ? { problem: why_ } : {}),
    });
  };

  /**
   * A one-shot timer at the first start or end after the last instant a run
   * evaluated; one that passed during a run is run at once.
   */
  const arm = () => {
    timer?.cancel();
    timer = undefined;
    state.nextTimer = undefined;
    if (stopping || !committed) return;
    const { repo } = committed;
    const zone = zoneOf(repo);
    const next = nextChange(repo, zone, handledUpTo);
    if (!next) return;
    state.nextTimer = next.at;
    const fire = () => {
      const now = clock.now();
      const apps = appsDue(repo, zone, handledUpTo, now);
      log('info', 'timer', { at: isoUtc(next.at), apps, lateMs: now - next.at });
      request(`grants start or end at ${isoUtc(next.at)}`, apps.length > 0 ? apps : next.apps, false);
    };
    // Passed already (while a run was busy): asked for now, so the loop in flight runs it next.
    if (next.at <= clock.now()) fire();
    else timer = clock.at(next.at, fire);
    log('info', 'timer set', { at: isoUtc(next.at), apps: next.apps });
  };

  const cron = new Cron(options.schedule, { paused: true });
  const armSchedule = () => {
    if (stopping) return;
    const next = cron.nextRun(new Date(clock.now()));
    if (!next) return;
    scheduleTimer = clock.at(next.getTime(), () => {
      request('the schedule', 'all', true);
      armSchedule();
    });
  };
  const armPull = () => {
    if (stopping) return;
    pullTimer = clock.at(clock.now() + options.pullMs, () => {
      // A pull that brings changes runs the apps they touch, at once; runs are never interrupted.
      pulling = pull()
        .then((moved) => {
          if (moved) request(`a pull brought ${committed?.commit?.slice(0, 12) ?? 'changes'}`, moved, false);
          armPull();
        })
        .finally(() => {
          pulling = undefined;
        });
    });
  };

  try {
    server = await listen(options.listen, (req, res) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        const h = health(state, clock.now(), options.pullMs);
        return send(res, h.ok ? 200 : 503, {
          ...h,
          branch,
          lastPull: state.lastPull ? isoUtc(state.lastPull) : null,
          nextTimer: state.nextTimer ? isoUtc(state.nextTimer) : null,
        });
      }
      if (req.method === 'GET' && req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(metrics(state, clock.now()));
      }
      if (req.url === '/hooks/github') {
        if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
        return webhook(req, res, options.env.IDEN_WEBHOOK_SECRET, log, () =>
          request('a push webhook', 'all', true),
        );
      }
      send(res, 404, { error: 'not found' });
    });
  } catch (e) {
    releaseLock();
    throw e;
  }
  const where = address(server);
  log('info', 'serving', { repo: root, branch, schedule: options.schedule, listen: where });
  request('start', 'all', true);
  armSchedule();
  armPull();

  return {
    address: where,
    state,
    idle: async () => {
      while (running || pulling) await (running ?? pulling);
    },
    stop: async () => {
      stopping = true;
      log('info', 'stopping: finishing the run in flight');
      timer?.cancel();
      scheduleTimer?.cancel();
      pullTimer?.cancel();
      reviews.stop();
      while (running || pulling) await (running ?? pulling);
      await closeWarm();
      await new Promise((r) => server?.close(r));
      releaseLock();
      log('info', 'stopped');
    },
  };
}

/**
 * The branch iden serve follows: the remote's default branch (asked of the
 * remote, not read from a local ref that may be unset), or the one --branch
 * names; the clone must be on it, clean, and hold nothing the remote lacks.
 */
async function followedBranch(root: string, given: string | undefined): Promise<string> {
  const current = await checkedOut(root);
  if (!current) throw new UsageError(`${root} is not on a branch: check out the branch iden serve follows`);
  const branch = given ?? (await remoteDefaultBranch(root));
  if (!branch)
    throw new OperatorError(
      `cannot ask origin which branch is its default (git ls-remote --symref origin HEAD): give --branch, or fix origin`,
    );
  if (current !== branch)
    throw new UsageError(
      `${root} is on ${current}, not ${branch}${given ? '' : " (origin's default branch)"}: iden serve applies only the reviewed branch; check out ${branch}, or give --branch`,
    );
  const dirty = await localChanges(root);
  if (dirty.length > 0)
    throw new UsageError(
      `${root} has local changes (${dirty.length} file${dirty.length === 1 ? '' : 's'}): iden serve works on a clean clone and never touches them`,
    );
  return branch;
}
