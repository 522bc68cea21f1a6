import { TransientError } from '../connectors/types.js';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** Five attempts in all: the first and up to four retries. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 30_000 };

export interface RetryOptions {
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A call that failed for good: its last error, and how many attempts were made. */
export class GaveUp extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
  ) {
    const message = last instanceof Error ? last.message : String(last);
    super(`${message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`, { cause: last });
  }
}

/**
 * The one place iden retries: a TransientError (a timeout, a 429 or 503, a
 * dropped connection) is tried again with exponential backoff and full
 * jitter, honouring the service's Retry-After; anything else, or the last
 * attempt's error, is thrown as GaveUp.
 */
export async function withRetry<T>(run: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof TransientError) || attempt >= policy.attempts) throw new GaveUp(e, attempt);
      const backoff = random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(Math.max(backoff, Math.min(e.retryAfterMs ?? 0, policy.maxMs * 4)));
    }
  }
}
