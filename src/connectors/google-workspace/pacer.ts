import type { Clock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';

const MINUTE = 60_000;

/**
 * Keeps one API's requests within its quota a minute, counted as Google
 * counts them: each request inside a batch is one. A sliding window over
 * the last minute, read on the session's clock; a wait of ten seconds or
 * more is said, with the quota that caused it.
 */
export class Pacer {
  private readonly sent: { at: number; units: number }[] = [];
  /** Every wait, in milliseconds, for the bench and the tests. */
  waitedMs = 0;

  constructor(
    readonly perMinute: number,
    private readonly clock: Clock,
    private readonly name: string,
    private readonly onNotice: (text: string) => void = () => undefined,
  ) {}

  /** Waits until `units` more requests fit in the last minute, then counts them as sent now. */
  async take(units: number): Promise<void> {
    const wait = this.waitFor(units, this.clock.now());
    if (wait > 0) {
      if (wait >= 10_000)
        this.onNotice(
          `${this.name} allows ${this.perMinute} requests a minute (requestsPerMinute): waiting ${formatDuration(wait)}`,
        );
      this.waitedMs += wait;
      await this.clock.sleep(wait);
    }
    this.sent.push({ at: this.clock.now(), units });
  }

  /** How long `units` must wait at `now`: until enough of the last minute's requests have aged out. Pure but for dropping what has. */
  waitFor(units: number, now: number): number {
    while (this.sent.length > 0 && this.sent[0]!.at <= now - MINUTE) this.sent.shift();
    let used = this.sent.reduce((n, s) => n + s.units, 0);
    if (used + units <= this.perMinute) return 0;
    for (const s of this.sent) {
      used -= s.units;
      if (used + units <= this.perMinute) return s.at + MINUTE - now;
    }
    return 0;
  }
}
