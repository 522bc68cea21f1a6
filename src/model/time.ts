import { DateTime, IANAZone } from 'luxon';

export type Instant = number; // epoch milliseconds

export type ParsedTime = { ok: true; at: Instant } | { ok: false; message: string };

const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;
const cache = new Map<string, ParsedTime>();

export function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/**
 * Reads a grant's start or end: a date-time with an offset is that instant; a
 * bare date is midnight in `zone` (daylight-saving aware, through luxon).
 * Results are memoised because a large repository repeats the same dates.
 */
export function parseTime(text: string, zone: string): ParsedTime {
  const key = `${zone}\u0000${text}`;
  let parsed = cache.get(key);
  if (!parsed) {
    parsed = parseUncached(text, zone);
    if (cache.size > 100_000) cache.clear();
    cache.set(key, parsed);
  }
  return parsed;
}

function parseUncached(text: string, zone: string): ParsedTime {
  if (BARE_DATE.test(text)) {
    const day = DateTime.fromISO(text, { zone });
    if (!day.isValid)
      return { ok: false, message: `"${text}" is not a real date (${day.invalidExplanation ?? 'invalid'})` };
    return { ok: true, at: day.toMillis() };
  }
  const instant = DateTime.fromISO(text, { setZone: true });
  if (!instant.isValid) {
    return {
      ok: false,
      message: `"${text}" is not a real date-time (${instant.invalidExplanation ?? 'invalid'})`,
    };
  }
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return {
      ok: false,
      message: `"${text}" has no offset; add one such as Z or +01:00, or give a bare date`,
    };
  }
  return { ok: true, at: instant.toMillis() };
}

/** ISO 8601 in UTC, for output that machines read. */
export function isoUtc(at: Instant): string {
  return new Date(at).toISOString();
}

/** A short human form: the date in `zone` when the instant is its midnight, else the full instant. */
export function humanTime(at: Instant, zone: string): string {
  const local = DateTime.fromMillis(at, { zone });
  if (local.hour === 0 && local.minute === 0 && local.second === 0 && local.millisecond === 0) {
    return local.toISODate() ?? isoUtc(at);
  }
  return local.toISO({ suppressMilliseconds: true }) ?? isoUtc(at);
}

/** Reads an `--at` option: any ISO form luxon accepts, a bare date as midnight in `zone`. */
export function parseAtOption(text: string, zone: string): Instant | undefined {
  const parsed = parseTime(text, zone);
  if (parsed.ok) return parsed.at;
  const loose = DateTime.fromISO(text, { zone });
  return loose.isValid ? loose.toMillis() : undefined;
}
