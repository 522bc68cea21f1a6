// The end of a grant a rule caps (maxDuration): only durations within the
// cap are offered, the longest allowed among them; a typed end past it is
// refused with the longest end allowed; "no end" is not offered.
import { Duration } from 'luxon';
import { type Instant, parseTime } from '../model/time.js';
import { type Cap, latestText, pastCap } from '../rules/offer.js';
import type { Choice, Questions } from './questions.js';
import { type Workspace, writtenEnd } from './workspace.js';

const PRESETS: [string, string][] = [
  ['1h', '1 hour'],
  ['8h', '8 hours'],
  ['1d', '1 day'],
  ['7d', '7 days'],
  ['30d', '30 days'],
  ['90d', '90 days'],
  ['180d', '180 days'],
  ['365d', '1 year'],
];

/** The end `text` (a date or a duration) writes, and its instant; a string says why it is no end. */
function endOf(
  ws: Workspace,
  text: string,
  start: string | undefined,
): { end: string; at: Instant } | string {
  let end: string | undefined;
  try {
    end = writtenEnd(ws, text, start);
  } catch (e) {
    return (e as Error).message;
  }
  const parsed = parseTime(end ?? '', ws.zone);
  return parsed.ok ? { end: end!, at: parsed.at } : parsed.message;
}

/** The longest end a cap allows, as a person would write it: whole days as a date, else to the minute. */
function longestEnd(ws: Workspace, cap: Cap, start: string | undefined): string {
  const d = Duration.fromISO(cap.duration);
  if (d.isValid && d.years === 0 && d.quarters === 0 && d.months === 0) {
    const ms = d.as('milliseconds');
    const text = ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.floor(ms / 60_000)}m`;
    const written = endOf(ws, text, start);
    if (typeof written !== 'string' && written.at <= cap.longest) return written.end;
  }
  return latestText(cap, ws.zone);
}

/** Until when, under a cap: the durations it allows, its longest, or an end typed and checked against it. */
export async function askCappedEnd(
  ask: Questions,
  ws: Workspace,
  from: Instant,
  /** The start as the file says it; undefined: when applied. */
  start: string | undefined,
  cap: Cap,
  /** A change's end as its file says it: kept as the first choice while within the cap. */
  current?: string,
): Promise<string> {
  const after = Math.max(from, ws.now);
  const choices: Choice<string>[] = [];
  const kept = current === undefined ? undefined : endOf(ws, current, start);
  if (kept !== undefined && typeof kept !== 'string' && kept.at > after && kept.at <= cap.longest)
    choices.push({
      value: kept.end,
      name: 'Keep the current end',
      short: `until ${kept.end}`,
      description: `until ${kept.end}`,
    });
  for (const [text, label] of PRESETS) {
    const end = endOf(ws, text, start);
    if (typeof end === 'string' || end.at > cap.longest || end.at <= after) continue;
    if (choices.some((c) => c.value === end.end)) continue;
    choices.push({
      value: end.end,
      name: label,
      short: `${label} (until ${end.end})`,
      description: `until ${end.end}`,
    });
  }
  const longest = longestEnd(ws, cap, start);
  if (!choices.some((c) => c.value === longest))
    choices.push({
      value: longest,
      name: `${cap.duration}, the longest allowed`,
      short: `until ${longest}`,
      description: `until ${longest}`,
    });
  choices.push({
    value: '',
    name: 'Another end',
    description: `a date, or a duration like 14d (${ws.zone})`,
  });
  const picked = await ask.select({
    message: `Until when? (${cap.rule} allows at most ${cap.duration})`,
    choices,
    pageSize: 12,
  });
  if (picked !== '') return picked;
  const typed = await ask.input({
    message: `End, ${ws.zone} (a date, or a duration like 14d; at the latest ${latestText(cap, ws.zone)})`,
    validate: (value) => {
      const v = value.trim();
      if (v === '') return pastCap(cap, undefined, ws.zone)!;
      const end = endOf(ws, v, start);
      if (typeof end === 'string') return end;
      if (end.at <= after) return 'the end must come after the start and after now';
      return pastCap(cap, end.at, ws.zone) ?? true;
    },
  });
  return (endOf(ws, typed.trim(), start) as { end: string }).end;
}
