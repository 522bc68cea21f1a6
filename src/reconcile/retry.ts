import { TransientError } from '../connectors/types.js';
import { type Clock, systemClock } from '../model/clock.js';
import { formatDuration } from '../model/duration.js';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** Five attempts in all: the first and up to four retries. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 30_000 };

/** How long one run may spend, in all, waiting for apps to take requests again. */
export const RUN_WAIT_LIMIT_MS = 15 * 60_000;

/** Waits this long or longer are said as they begin. */
export const NOTICE_WAIT_MS = 10_000;

/** What a run may still spend waiting, shared by every call it retries. */
export class WaitBudget {
  waitedMs = 0;

  constructor(readonly limitMs: number = RUN_WAIT_LIMIT_MS) {}

  get leftMs(): number {
    return this.limitMs - this.waitedMs;
  }
}

export interface RetryOptions {
  retry?: RetryPolicy;
  /** Where waits are slept: the run's clock. Default: the system clock. */
  clock?: Clock;
  /** Replaces the clock's sleep (tests record the waits asked for). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told of every wait of NOTICE_WAIT_MS or more before it begins: how long, and the error it waits out. */
  onWait?: (ms: number, error: TransientError) => void;
  /** The run's waiting so far; a wait beyond what is left is not made, and the call gives up saying so. */
  budget?: WaitBudget;
}

/** A call that failed for good: its last error, and how many attempts were made. */
export class GaveUp extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
    why?: string,
  ) {
    const message = last instanceof Error ? last.message : String(last);
    super(`${message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}${why ? `; ${why}` : ''}`, {
      cause: last,
    });
  }
}

/**
 * The one place iden retries: a TransientError (a timeout, a 429 or 503, a
 * dropped connection) is tried again, after the wait the service asked for
 * (Retry-After, or a rate limit's reset) or else an exponential backoff with
 * full jitter; anything else, or the last attempt's error, is thrown as
 * GaveUp. A wait of ten seconds or more is said as it begins; a wait the
 * run's budget cannot pay is not made at all: the call gives up, saying so,
 * and the next run takes it up.
 */
export async function withRetry<T>(run: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? ((ms: number) => clock.sleep(ms));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof TransientError) || attempt >= policy.attempts) throw new GaveUp(e, attempt);
      const wait =
        e.retryAfterMs !== undefined && e.retryAfterMs > 0
          ? e.retryAfterMs
          : random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const budget = options.budget;
      if (budget && wait > budget.leftMs)
        throw new GaveUp(
          e,
          attempt,
          `waiting ${formatDuration(wait)} more would pass the ${formatDuration(budget.limitMs)} a run may wait in all (${formatDuration(budget.waitedMs)} waited already); the next run tries again`,
        );
      if (wait >= NOTICE_WAIT_MS) options.onWait?.(wait, e);
      if (budget) budget.waitedMs += wait;
      await sleep(wait);
    }
  }
}
