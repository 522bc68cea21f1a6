import type { AccessRepo } from '../model/repo.js';
import { type Instant, isTimeZone, parseAtOption } from '../model/time.js';
import { UsageError } from './io.js';

/** The instant a command evaluates at: --at, or now. A bare --at date is midnight in the settings' zone. */
export function atOption(text: string | undefined, repo: AccessRepo): Instant {
  if (text === undefined) return Date.now();
  const zone = repo.settings?.value?.timezone;
  const at = parseAtOption(text, zone && isTimeZone(zone) ? zone : 'UTC');
  if (at === undefined) throw new UsageError(`--at "${text}" is not an ISO 8601 date or date-time`);
  return at;
}

export function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`${name} must be one of ${allowed.join(', ')}, not "${value}"`);
    }
    return value as T;
  };
}
