import pLimit from 'p-limit';
import { type Change, type Outcome, type Session, type Step, TransientError } from '../connectors/types.js';
import { groupBy } from '../util/group-by.js';

export interface ChangeResult extends Change {
  outcome: Outcome;
  error?: string;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface ApplyOptions {
  retry?: RetryPolicy;
  onProgress?: (app: string, done: number, total: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 30_000 };

/**
 * Runs changes through their apps' sessions: every grant first, then the
 * removals, except those of a person whose grant in the same app failed (so a
 * changed grant never leaves them with neither). Steps of one app run with
 * the connector's concurrency; apps run side by side.
 */
export async function applyChanges(
  changes: readonly Change[],
  sessions: ReadonlyMap<string, Session>,
  options: ApplyOptions = {},
): Promise<ChangeResult[]> {
  const totals = new Map<string, number>();
  for (const c of changes) totals.set(c.app, (totals.get(c.app) ?? 0) + 1);
  const done = new Map<string, number>();
  const progress = (app: string, n: number) => {
    done.set(app, (done.get(app) ?? 0) + n);
    options.onProgress?.(app, done.get(app)!, totals.get(app)!);
  };

  const grants = await runPhase(
    changes.filter((c) => c.action === 'grant'),
    sessions,
    options,
    progress,
  );
  const failedGrant = new Set(
    grants
      .filter((r) => r.result.outcome === 'failed')
      .map((r) => `${r.original.app}\u0000${r.original.user}`),
  );
  const revokes = changes.filter((c) => c.action === 'revoke');
  const heldBack = revokes.filter((c) => failedGrant.has(`${c.app}\u0000${c.user}`));
  const held = heldBack.map((c) =>
    track(
      c,
      'failed',
      `not removed: a grant to ${c.user} in ${c.app} failed in this run, so their access is kept as it was`,
    ),
  );
  for (const c of heldBack) progress(c.app, 1);
  const removals = await runPhase(
    revokes.filter((c) => !failedGrant.has(`${c.app}\u0000${c.user}`)),
    sessions,
    options,
    progress,
  );
  const results = new Map<Change, ChangeResult>();
  for (const r of [...grants, ...held, ...removals]) results.set(r.original, r.result);
  return changes.map((c) => results.get(c)!);
}

/** A change and what became of it; results are matched back to the changes by identity. */
type Tracked = { original: Change; result: ChangeResult };

async function runPhase(
  changes: Change[],
  sessions: ReadonlyMap<string, Session>,
  options: ApplyOptions,
  progress: (app: string, n: number) => void,
): Promise<Tracked[]> {
  const byApp = groupBy(changes, (c) => c.app);
  const tracked: Tracked[] = [];
  await Promise.all(
    [...byApp].map(async ([app, appChanges]) => {
      const session = sessions.get(app);
      if (!session) {
        for (const c of appChanges) tracked.push(track(c, 'failed', `app ${app} is not open`));
        return;
      }
      const limit = pLimit(session.concurrency);
      await Promise.all(
        session.steps(appChanges).map((step) =>
          limit(async () => {
            const outcome = await runStep(step, options);
            step.changes.forEach((c, i) => {
              tracked.push(track(c, outcome.outcomes?.[i] ?? 'failed', outcome.error));
            });
            progress(app, step.changes.length);
          }),
        ),
      );
    }),
  );
  return tracked;
}

function track(original: Change, outcome: Outcome, error?: string): Tracked {
  const result: ChangeResult = { ...original, outcome, ...(outcome === 'failed' && error ? { error } : {}) };
  return { original, result };
}

/** Runs a step, retrying transient errors with exponential backoff and full jitter, honouring Retry-After. */
async function runStep(step: Step, options: ApplyOptions): Promise<{ outcomes?: Outcome[]; error?: string }> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      const outcomes = await step.run();
      if (outcomes.length !== step.changes.length)
        return { error: 'the connector returned the wrong number of outcomes' };
      return { outcomes };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!(e instanceof TransientError) || attempt >= policy.attempts) {
        const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        return { error: `${message}${tries}` };
      }
      const backoff = random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(Math.max(backoff, Math.min(e.retryAfterMs ?? 0, policy.maxMs * 4)));
    }
  }
}
