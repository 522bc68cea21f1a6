import { type Clock, systemClock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';

/**
 * Okta's published per-minute limits for a Workforce Identity org
 * (developer.okta.com/docs/reference/rl-global-mgmt), by bucket: what iden
 * assumes until a response's X-Rate-Limit-Limit says what the org really has.
 * A bucket not listed is assumed to allow 100 until a response says.
 */
export const DOCUMENTED_LIMITS: Readonly<Record<string, number>> = {
  '/api/v1/apps': 100,
  '/api/v1/apps/{id}': 500,
  '/api/v1/groups': 500,
  '/api/v1/groups/{id}': 1000,
  '/api/v1/users': 600,
  '/api/v1/users/{id}': 600,
  '/api/v1/users/{idOrLogin}': 2000,
};
const UNKNOWN_BUCKET_LIMIT = 100;
const WINDOW_MS = 60_000;
/** A wait this long or longer is said, with how many writes are left. */
const TELL_AFTER_MS = 10_000;

/**
 * The rate-limit bucket Okta counts a request in, as its own mapping does:
 * `/api/v1/groups/{id}` alone is one bucket and everything else under
 * `/api/v1/groups` (members, rules, roles) another; likewise for apps; one
 * user by id or login (GET) has a bucket of its own, apart from changes to
 * a user and from lists and everything under a user.
 */
export function bucketOf(method: string, pathname: string): string {
  const m = method.toUpperCase();
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  const [api, v1, kind, id, ...rest] = parts;
  if (api !== 'api' || v1 !== 'v1' || kind === undefined) return pathname;
  const single = id !== undefined && rest.length === 0;
  if (kind === 'apps') return single && m !== 'POST' ? '/api/v1/apps/{id}' : '/api/v1/apps';
  if (kind === 'groups')
    return single && id !== 'rules' && m !== 'POST' ? '/api/v1/groups/{id}' : '/api/v1/groups';
  if (kind === 'users') {
    if (!single || id === 'me') return '/api/v1/users';
    return m === 'GET' ? '/api/v1/users/{idOrLogin}' : '/api/v1/users/{id}';
  }
  return `/api/v1/${kind}`;
}

/** What iden knows of one bucket's current window. */
export interface Window {
  limit: number;
  remaining: number;
  /** When the window resets, on the connector's clock; assumed a minute after its first request until a response says. */
  resetAt: number | undefined;
  assumed: boolean;
  /** When iden last wrote in this bucket. */
  lastWrite: number;
}

/** A fresh window: the documented limit, nothing spent. */
export function freshWindow(bucket: string): Window {
  const limit = DOCUMENTED_LIMITS[bucket] ?? UNKNOWN_BUCKET_LIMIT;
  return { limit, remaining: limit, resetAt: undefined, assumed: true, lastWrite: Number.NEGATIVE_INFINITY };
}

/** How many requests of a window iden may make: its share of the limit, at least one. */
export function budgetOf(limit: number, share: number): number {
  return Math.max(1, Math.floor(limit * share));
}

/**
 * How long a request must wait, and why. Pure. Reads wait only when what
 * is left of the window is the part kept for the org's other clients;
 * writes are also spread evenly over the window (one every minute / budget),
 * so a run of a thousand writes never bursts to the limit.
 */
export function waitFor(
  w: Window,
  now: number,
  share: number,
  write: boolean,
): { ms: number; why: 'window' | 'spacing' | undefined } {
  const budget = budgetOf(w.limit, share);
  let until = now;
  let why: 'window' | 'spacing' | undefined;
  if (w.remaining <= w.limit - budget && w.resetAt !== undefined && w.resetAt > now) {
    until = w.resetAt;
    why = 'window';
  }
  if (write) {
    const next = w.lastWrite + WINDOW_MS / budget;
    if (next > until) {
      until = next;
      why = 'spacing';
    }
  }
  return { ms: Math.max(0, until - now), why: until > now ? why : undefined };
}

/** The X-Rate-Limit-* headers of a response, with its Date, as numbers. */
export interface RateHeaders {
  limit: number;
  remaining: number;
  /** When the window resets: UTC epoch seconds, on Okta's clock. */
  reset: number;
  /** Okta's clock when it answered (the Date header), in ms; undefined when absent. */
  date: number | undefined;
}

export function rateHeaders(headers: Headers): RateHeaders | undefined {
  const limit = Number(headers.get('x-rate-limit-limit'));
  const remaining = Number(headers.get('x-rate-limit-remaining'));
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (![limit, remaining, reset].every(Number.isFinite) || limit <= 0) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  return { limit, remaining, reset, date: Number.isNaN(date) ? undefined : date };
}

/**
 * Paces requests to one Okta org within iden's share of each rate-limit
 * bucket, reading the limits from every response's headers. Requests of a
 * bucket take their turn one after another (the answers may overlap); waits
 * are on the connector's clock. Shared by every session on the same org in
 * this process, since Okta counts the org, not the session.
 */
export class RateLimits {
  private readonly windows = new Map<string, Window>();
  private readonly turns = new Map<string, Promise<void>>();
  /** Writes still to make in this run, when the session knows (for the notice of a long wait). */
  writesLeft: number | undefined;
  /** Total time spent waiting, in ms: what pacing adds to a run. */
  waited = 0;

  constructor(
    readonly share: number,
    readonly clock: Clock = systemClock,
    private readonly onNotice: (text: string) => void = () => undefined,
  ) {}

  /** The window iden knows for a bucket (a copy). */
  window(bucket: string): Window {
    return { ...this.current(bucket) };
  }

  /**
   * Waits for the request's turn within iden's share of its bucket, and
   * counts it. Returns what to call once the request is answered: the next
   * write in the bucket waits for this one's answer, so a 429 is known
   * before anything more is sent there; reads only take their turn.
   */
  async acquire(bucket: string, write: boolean): Promise<() => void> {
    const previous = this.turns.get(bucket) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const turn = previous.then(() => this.take(bucket, write));
    this.turns.set(
      bucket,
      turn.then(
        () => (write ? answered : undefined),
        () => undefined,
      ),
    );
    await turn;
    return release;
  }

  /** What a response said of its bucket. */
  record(bucket: string, headers: RateHeaders | undefined): void {
    if (!headers) return;
    const w = this.current(bucket);
    const now = this.clock.now();
    // Okta's clock and ours may differ: the wait is measured on Okta's, from its Date header.
    const resetIn = Math.min(WINDOW_MS + 1000, Math.max(0, headers.reset * 1000 - (headers.date ?? now)));
    const resetAt = now + resetIn;
    // A later reset (beyond the Date header's one-second grain) is a new window.
    if (w.assumed || w.resetAt === undefined || resetAt > w.resetAt + 1500) {
      Object.assign(w, { limit: headers.limit, remaining: headers.remaining, resetAt, assumed: false });
    } else {
      w.limit = headers.limit;
      w.remaining = Math.min(w.remaining, headers.remaining);
    }
  }

  /** A 429: nothing more in the bucket until its window resets. Returns how long that is. */
  refused(bucket: string, headers: RateHeaders | undefined): number {
    this.record(bucket, headers);
    const w = this.current(bucket);
    w.remaining = 0;
    w.resetAt ??= this.clock.now() + WINDOW_MS;
    return Math.max(0, w.resetAt - this.clock.now());
  }

  private current(bucket: string): Window {
    let w = this.windows.get(bucket);
    if (!w) {
      w = freshWindow(bucket);
      this.windows.set(bucket, w);
    }
    if (w.resetAt !== undefined && this.clock.now() >= w.resetAt)
      Object.assign(w, { remaining: w.limit, resetAt: undefined, assumed: true });
    return w;
  }

  private async take(bucket: string, write: boolean): Promise<void> {
    const w = this.current(bucket);
    const { ms, why } = waitFor(w, this.clock.now(), this.share, write);
    if (ms > 0) {
      if (ms >= TELL_AFTER_MS) this.onNotice(this.describeWait(bucket, w, ms, why));
      this.waited += ms;
      await this.clock.sleep(ms);
    }
    const now = this.clock.now();
    const after = this.current(bucket);
    after.resetAt ??= now + WINDOW_MS;
    after.remaining -= 1;
    if (write) {
      after.lastWrite = now;
      if (this.writesLeft !== undefined) this.writesLeft = Math.max(0, this.writesLeft - 1);
    }
  }

  private describeWait(bucket: string, w: Window, ms: number, why: 'window' | 'spacing' | undefined): string {
    const budget = budgetOf(w.limit, this.share);
    const left =
      this.writesLeft !== undefined
        ? `; ${this.writesLeft} write${this.writesLeft === 1 ? '' : 's'} left`
        : '';
    const reason =
      why === 'window'
        ? `${w.remaining} of this minute's ${w.limit} are left, and iden leaves ${w.limit - budget} to the org's other clients`
        : `iden spreads its ${budget} a minute evenly`;
    return `Okta allows ${w.limit} requests a minute to ${bucket} (${reason}): waiting ${formatDuration(ms)}${left}`;
  }
}

const shared = new Map<string, RateLimits>();

/** The pacer of an org in this process: apps on the same org share Okta's buckets, so they share one. */
export function ratesFor(
  orgUrl: string,
  share: number,
  clock: Clock,
  onNotice: (text: string) => void,
): RateLimits {
  const key = `${orgUrl.replace(/\/+$/, '').toLowerCase()}\u0000${share}`;
  let rates = shared.get(key);
  // A different clock is a different world (a test's, the bench's): never share across them.
  if (!rates || rates.clock !== clock) {
    rates = new RateLimits(share, clock, onNotice);
    shared.set(key, rates);
  }
  return rates;
}
