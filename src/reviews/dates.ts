import { DateTime, Duration } from 'luxon';
import { parseDuration } from '../model/duration.js';
import { type Instant, parseTime } from '../model/time.js';

const DAY = 86_400_000;

/** A duration as `14d`, `2w`, `36h` or ISO 8601 (`P90D`, `P2W`, `PT36H`); undefined when it is neither. */
export function parseSpan(text: string): number | undefined {
  const short = parseDuration(text);
  if (short !== undefined) return short;
  if (!/^P/.test(text)) return undefined;
  const iso = Duration.fromISO(text);
  // Months and years have no fixed length: a cadence in them is read as 30 and 365 days.
  if (!iso.isValid) return undefined;
  const { years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0 } = iso.toObject();
  return (
    ((years * 365 + months * 30 + weeks * 7 + days) * 24 + hours) * 3_600_000 +
    minutes * 60_000 +
    seconds * 1000
  );
}

/**
 * The due date of `--due`: a date or date-time as grants write them, or a
 * duration from now, rounded up to the next midnight of the zone, kept as a
 * bare date so the grant files read as people write them.
 */
export function dueDate(text: string, now: Instant, zone: string): { text: string; at: Instant } | string {
  const span = parseSpan(text);
  if (span !== undefined) {
    const day = DateTime.fromMillis(now + span, { zone }).startOf('day');
    const next = day.toMillis() < now + span ? day.plus({ days: 1 }) : day;
    const iso = next.toISODate()!;
    return { text: iso, at: next.toMillis() };
  }
  const parsed = parseTime(text, zone);
  if (!parsed.ok)
    return `--due ${text}: ${parsed.message}; give a date (2026-12-31), a date-time with an offset, or a duration (14d, P30D)`;
  if (parsed.at <= now) return `--due ${text}: the due date has passed; give a date after now`;
  return { text, at: parsed.at };
}

/** due + grace, written as the due date is: a bare date stays a bare date when the grace is whole days. */
export function endAfter(
  due: { text: string; at: Instant },
  grace: number,
  zone: string,
): { text: string; at: Instant } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(due.text) && grace % DAY === 0) {
    const day = DateTime.fromISO(due.text, { zone }).plus({ days: grace / DAY });
    return { text: day.toISODate()!, at: day.toMillis() };
  }
  const at = due.at + grace;
  return { text: new Date(at).toISOString().replace('.000Z', 'Z'), at };
}
