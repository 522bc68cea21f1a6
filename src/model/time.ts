import { DateTime, IANAZone } from 'luxon';

export type Instant = number; // epoch milliseconds

export type ParsedTime = { ok: true; at: Instant } | { ok: false; message: string };

const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;
const cache = new Map<string, ParsedTime>();

const zones = new Map<string, boolean>();

/** Whether a zone name is a real IANA zone; remembered, since luxon builds an Intl.DateTimeFormat to tell. */
export function isTimeZone(zone: string): boolean {
  // The default needs no Intl.DateTimeFormat built to tell (the first costs a tenth of a second).
  if (zone === 'UTC') return true;
  let valid = zones.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    zones.set(zone, valid);
  }
  return valid;
}

/** A real date (1900 to 9999) as its midnight UTC, exactly as luxon reads it; undefined for luxon to judge. */
function utcMidnight(text: string): Instant | undefined {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  if (year < 1900) return undefined;
  const at = Date.UTC(year, month - 1, day);
  const date = new Date(at);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    ? at
    : undefined;
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
    // Midnight UTC needs no luxon, whose first DateTime costs an Intl.DateTimeFormat (a few hundredths of a second).
    const at = zone === 'UTC' ? utcMidnight(text) : undefined;
    if (at !== undefined) return { ok: true, at };
    const day = DateTime.fromISO(text, { zone });
    if (!day.isValid) return { ok: false, message: `"${text}" is not a real date: ${whyNotADate(text)}` };
    return { ok: true, at: day.toMillis() };
  }
  const instant = DateTime.fromISO(text, { setZone: true });
  if (!instant.isValid) {
    const date = text.slice(0, 10);
    return {
      ok: false,
      message: BARE_DATE.test(date)
        ? DateTime.fromISO(date).isValid
          ? `"${text}" is not a real date-time: write it as YYYY-MM-DDTHH:MM (seconds optional) with an offset, such as ${date}T09:00:00+01:00 or ${date}T08:00:00Z`
          : `"${text}" is not a real date: ${whyNotADate(date)}`
        : `"${text}" is not a date: write YYYY-MM-DD, or a date-time such as 2026-12-01T09:00:00+01:00`,
    };
  }
  const offset = /(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!offset) {
    const other = /[+-]\d{2}(\d{2})?$/.test(text.slice(10));
    return {
      ok: false,
      message: other
        ? `"${text}" writes its offset without a colon; write it as ±HH:MM (+01:00) or Z`
        : `"${text}" has no offset; add one such as Z or +01:00, or give a bare date`,
    };
  }
  if (offset[2] && (Number(offset[3]) * 60 + Number(offset[4]) > 14 * 60 || Number(offset[4]) > 59)) {
    return { ok: false, message: `"${text}" has an offset beyond ±14:00, which no place on Earth uses` };
  }
  return { ok: true, at: instant.toMillis() };
}

/** Why a YYYY-MM-DD is no date, in iden's words (the month, or the day the month has). */
function whyNotADate(text: string): string {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  if (month < 1 || month > 12) return `months run from 01 to 12, not ${String(month).padStart(2, '0')}`;
  const days = DateTime.fromObject({ year, month }).daysInMonth ?? 31;
  const name = DateTime.fromObject({ year, month }).setLocale('en').toFormat('LLLL yyyy');
  return `${name} has ${days} days, so the day runs from 01 to ${days}, not ${String(day).padStart(2, '0')}`;
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

/** The repository's time zone for bare dates: the settings' `timezone` when it is a real zone, else UTC. */
export function zoneOf(repo: {
  settings?: { value?: { timezone?: string | undefined } | undefined } | undefined;
}): string {
  const zone = repo.settings?.value?.timezone;
  return zone && isTimeZone(zone) ? zone : 'UTC';
}
