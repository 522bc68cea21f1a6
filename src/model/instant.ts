import { UsageError } from '../errors.js';
import type { AccessRepo } from './repo.js';
import { type Instant, parseTime, zoneOf } from './time.js';

/**
 * An instant given on the command line, in the forms grant files accept: a
 * bare date (midnight in the settings' time zone), a date-time with an offset
 * (Z or ±HH:MM), or `now`. Absent: now.
 */
export function instantOption(name: string, text: string | undefined, zone: string, now: Instant): Instant {
  if (text === undefined || text === 'now') return now;
  const parsed = parseTime(text, zone);
  if (parsed.ok) return parsed.at;
  throw new UsageError(`${name} ${parsed.message} (a bare date is midnight in ${zone})`);
}

/** `--at` for commands that read a repository: a bare date is midnight in its settings' time zone. */
export function atOption(text: string | undefined, repo: AccessRepo, now: Instant, name = '--at'): Instant {
  return instantOption(name, text, zoneOf(repo), now);
}
