import pLimit from 'p-limit';
import {
  AppStoppedError,
  type Change,
  type Outcome,
  type Session,
  type Step,
  type StepResult,
} from '../connectors/types.js';
import { groupBy } from '../util/group-by.js';
import { type GaveUp, type RetryOptions, withRetry } from './retry.js';
import { grantsFirst } from './step-order.js';

export interface ChangeResult extends Change {
  outcome: Outcome;
  error?: string;
}

export interface ApplyOptions extends RetryOptions {
  /** Told of a wait of ten seconds or more before a step of `app` is tried again. */
  onAppWait?: (app: string, ms: number, error: Error) => void;
  onProgress?: (app: string, done: number, total: number) => void;
  /** Each step's results as it finishes (the run's journal); throwing stops the whole run. */
  onResults?: (results: ChangeResult[]) => void;
}

/**
 * Runs changes through their apps' sessions: every grant first, then the
 * removals, except those of a person whose grant in the same app failed (so a
 * changed grant never leaves them with neither); a session that writes both
 * at once (grantsWithRemovals) gets them together, one step at a time, with
 * the same rule. Steps of one app run with the connector's concurrency; apps
 * run side by side. An app that stops
 * (AppStoppedError) has its remaining changes failed untried; an error from
 * `onResults` (the run's record cannot be written) stops every app.
 */
export async function applyChanges(
  changes: readonly Change[],
  sessions: ReadonlyMap<string, Session>,
  options: ApplyOptions = {},
): Promise<ChangeResult[]> {
  const totals = new Map<string, number>();
  for (const c of changes) totals.set(c.app, (totals.get(c.app) ?? 0) + 1);
  const done = new Map<string, number>();
  const state: RunState = { stopped: new Map(), fatal: undefined };
  const finish = (app: string, results: Tracked[]) => {
    done.set(app, (done.get(app) ?? 0) + results.length);
    options.onProgress?.(app, done.get(app)!, totals.get(app)!);
    if (state.fatal) return;
    try {
      options.onResults?.(results.map((r) => r.result));
    } catch (e) {
      state.fatal = e as Error;
    }
  };
  // A few apps at a time, each whole (its grants, then its removals), then let go: many embedded databases never run at once.
  const limit = pLimit(APPS_AT_ONCE);
  const tracked = (
    await Promise.all(
      [...groupBy(changes, (c) => c.app)].map(([app, appChanges]) =>
        limit(async () => {
          const session = sessions.get(app);
          try {
            return await applyApp(app, appChanges, session, options, finish, state);
          } finally {
            await session?.suspend?.().catch(() => undefined);
          }
        }),
      ),
    )
  ).flat();
  if (state.fatal) throw state.fatal;
  const results = new Map<Change, ChangeResult>();
  for (const r of tracked) results.set(r.original, r.result);
  return changes.map((c) => results.get(c)!);
}

/** Apps applied at once. */
const APPS_AT_ONCE = 3;

/** One app: every grant first, then the removals but those of people whose grant failed here. */
async function applyApp(
  app: string,
  changes: Change[],
  session: Session | undefined,
  options: ApplyOptions,
  finish: (app: string, results: Tracked[]) => void,
  state: RunState,
): Promise<Tracked[]> {
  if (!session) {
    const failed = changes.map((c) => track(c, 'failed', `app ${app} is not open`));
    finish(app, failed);
    return failed;
  }
  if (session.grantsWithRemovals) return runTogether(app, changes, session, options, finish, state);
  const grants = await runPhase(
    app,
    changes.filter((c) => c.action === 'grant'),
    session,
    options,
    finish,
    state,
  );
  const failedGrant = new Set(
    grants.filter((r) => r.result.outcome === 'failed').map((r) => r.original.user),
  );
  const revokes = changes.filter((c) => c.action === 'revoke');
  const held = revokes.filter((c) => failedGrant.has(c.user)).map(kept);
  if (held.length > 0) finish(app, held);
  const removals = await runPhase(
    app,
    revokes.filter((c) => !failedGrant.has(c.user)),
    session,
    options,
    finish,
    state,
  );
  return [...grants, ...held, ...removals];
}

/** A removal held back because the same person's grant in the app failed: a changed grant never leaves them with neither. */
function kept(c: Change): Tracked {
  return track(
    c,
    'failed',
    `not removed: a grant to ${c.user} in ${c.app} failed in this run, so their access is kept as it was`,
  );
}

/**
 * An app whose steps carry grants and removals together (one write per
 * group): one step at a time, grants before the same person's removals where
 * the steps allow, each step without the removals of people whose grant
 * failed before it.
 */
async function runTogether(
  app: string,
  changes: Change[],
  session: Session,
  options: ApplyOptions,
  finish: (app: string, results: Tracked[]) => void,
  state: RunState,
): Promise<Tracked[]> {
  const tracked: Tracked[] = [];
  const failedGrant = new Set<string>();
  for (const step of grantsFirst(session.steps(changes))) {
    const stop = state.fatal?.message ?? state.stopped.get(app);
    const holding = step.changes.filter((c) => c.action === 'revoke' && failedGrant.has(c.user));
    const rest = holding.length === 0 ? step : step.without?.(holding);
    let results: Tracked[];
    if (stop) results = step.changes.map((c) => track(c, 'failed', `not tried: ${stop}`));
    // A step that cannot leave the held removals out is not run at all.
    else if (!rest) results = step.changes.map(kept);
    else {
      const ran = await runStep(rest, forApp(app, options));
      if (ran.stopped) state.stopped.set(app, ran.stopped);
      results = [...holding.map(kept), ...ran.results];
    }
    for (const r of results)
      if (r.original.action === 'grant' && r.result.outcome === 'failed') failedGrant.add(r.original.user);
    tracked.push(...results);
    finish(app, results);
  }
  return tracked;
}

interface RunState {
  /** Apps that stopped this run, and why. */
  stopped: Map<string, string>;
  /** Set when the run must stop everywhere. */
  fatal: Error | undefined;
}

/** A change and what became of it; results are matched back to the changes by identity. */
type Tracked = { original: Change; result: ChangeResult };

async function runPhase(
  app: string,
  changes: Change[],
  session: Session,
  options: ApplyOptions,
  finish: (app: string, results: Tracked[]) => void,
  state: RunState,
): Promise<Tracked[]> {
  if (changes.length === 0) return [];
  const tracked: Tracked[] = [];
  const limit = pLimit(session.concurrency);
  await Promise.all(
    session.steps(changes).map((step) =>
      limit(async () => {
        const stop = state.fatal?.message ?? state.stopped.get(app);
        const results = stop
          ? step.changes.map((c) => track(c, 'failed', `not tried: ${stop}`))
          : await runStep(step, forApp(app, options)).then((r) => {
              if (r.stopped) state.stopped.set(app, r.stopped);
              return r.results;
            });
        tracked.push(...results);
        finish(app, results);
      }),
    ),
  );
  return tracked;
}

function track(original: Change, outcome: Outcome, error?: string): Tracked {
  const result: ChangeResult = { ...original, outcome, ...(outcome === 'failed' && error ? { error } : {}) };
  return { original, result };
}

/** The retry options of one app's steps: its waits said with its name. */
function forApp(app: string, options: ApplyOptions): ApplyOptions {
  const onAppWait = options.onAppWait;
  return onAppWait ? { ...options, onWait: (ms, e) => onAppWait(app, ms, e) } : options;
}

/** Runs a step through the retry layer, then checks that each of its changes got exactly one result, naming it. */
async function runStep(step: Step, options: ApplyOptions): Promise<{ results: Tracked[]; stopped?: string }> {
  try {
    return { results: matched(step, await withRetry(() => step.run(), options)) };
  } catch (e) {
    const gave = e as GaveUp;
    const settled = new Map((step.settled?.() ?? []).map((r) => [r.change, r]));
    return {
      results: step.changes.map((c) => {
        const done = settled.get(c);
        return done ? track(c, done.outcome, done.error) : track(c, 'failed', gave.message);
      }),
      ...(gave.last instanceof AppStoppedError ? { stopped: (gave.last as Error).message } : {}),
    };
  }
}

/** Each change of the step with the one result that names it; none, several or a stranger's is a connector fault. */
function matched(step: Step, results: StepResult[]): Tracked[] {
  const byChange = new Map<Change, StepResult[]>();
  for (const r of results) byChange.set(r.change, [...(byChange.get(r.change) ?? []), r]);
  const foreign = results.filter((r) => !step.changes.includes(r.change)).length;
  return step.changes.map((c) => {
    const mine = byChange.get(c) ?? [];
    if (mine.length !== 1 || foreign > 0) {
      const why =
        mine.length === 0
          ? 'the connector returned no outcome for it'
          : mine.length > 1
            ? 'the connector returned several outcomes for it'
            : 'the connector returned outcomes for changes it was not given';
      return track(c, 'failed', why);
    }
    return track(c, mine[0]!.outcome, mine[0]!.error);
  });
}
