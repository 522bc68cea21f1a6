import type { Instant } from './time.js';

/** A timer set on a clock; cancel() stops it from firing. */
export interface Timer {
  cancel(): void;
}

/**
 * Where iden reads the time: a port, so that every decision that depends on
 * "now" (which end has passed, when a timer fires, how long a lock was
 * waited for) can be made at an instant a test or an operator chooses. The
 * system clock is the only implementation that reads the calendar.
 */
export interface Clock {
  now(): Instant;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /** Calls `fire` once this clock's time reaches `at` (at once if it has). */
  at(at: Instant, fire: () => void): Timer;
}

/** The operating system's clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  at(at, fire) {
    // setTimeout takes at most 2^31-1 ms (24.8 days); a later instant is reached in hops.
    const MAX = 2_147_483_647;
    let handle: NodeJS.Timeout | undefined;
    const arm = () => {
      const wait = at - Date.now();
      if (wait <= 0) {
        handle = undefined;
        fire();
        return;
      }
      handle = setTimeout(arm, Math.min(wait, MAX));
    };
    handle = setTimeout(arm, 0);
    return {
      cancel: () => {
        if (handle) clearTimeout(handle);
        handle = undefined;
      },
    };
  },
};

/**
 * A clock that moves only when told: what tests use, so that no test reads
 * the calendar or waits on a real timer. Sleeps and timers fire, in order of
 * their instant, as `advance` or `set` moves time past them.
 */
export class ManualClock implements Clock {
  private pending: { at: Instant; seq: number; fire: () => void }[] = [];
  private seq = 0;

  /**
   * `sleeps: 'advance'`: a sleep moves the clock on by its length and ends at
   * once (virtual time: a run that waits out a rate limit takes no real time).
   * Default: a sleep ends only when the test moves the clock past it.
   */
  constructor(
    private time: Instant,
    private readonly options: { sleeps?: 'advance' | 'wait' } = {},
  ) {}

  now(): Instant {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    if (this.options.sleeps === 'advance') {
      this.set(this.time + Math.max(0, ms));
      return Promise.resolve();
    }
    return new Promise((resolve) => this.at(this.time + Math.max(0, ms), resolve));
  }

  at(at: Instant, fire: () => void): Timer {
    const entry = { at, seq: this.seq++, fire };
    this.pending.push(entry);
    this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (at <= this.time) queueMicrotask(() => this.fireDue());
    return { cancel: () => this.remove(entry) };
  }

  /** Moves time forward by `ms`, firing what falls due, each at its own instant. */
  advance(ms: number): void {
    this.set(this.time + ms);
  }

  /** Moves time to `to` (never back), firing what falls due on the way. */
  set(to: Instant): void {
    for (;;) {
      const next = this.pending[0];
      if (!next || next.at > to) break;
      this.time = Math.max(this.time, next.at);
      this.remove(next);
      next.fire();
    }
    this.time = Math.max(this.time, to);
  }

  /** The instant of the next timer or sleep, if any. */
  next(): Instant | undefined {
    return this.pending[0]?.at;
  }

  private fireDue(): void {
    this.set(this.time);
  }

  private remove(entry: { at: Instant; seq: number; fire: () => void }): void {
    const i = this.pending.indexOf(entry);
    if (i >= 0) this.pending.splice(i, 1);
  }
}
