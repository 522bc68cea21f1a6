import { ManualClock } from '../../src/model/clock.js';

/**
 * A clock whose sleeps pass at once: time moves forward by what was slept,
 * so a run paced over an hour of rate-limit windows takes milliseconds, and
 * the time it would have taken is `now() - start`. Computed, never slept.
 */
export class RunningClock extends ManualClock {
  /** Everything slept, in ms. */
  slept = 0;

  override sleep(ms: number): Promise<void> {
    const done = super.sleep(ms);
    this.slept += Math.max(0, ms);
    this.advance(Math.max(0, ms));
    return done;
  }
}
