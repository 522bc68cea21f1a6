import { type Instant, parseTime } from './time.js';

export interface Window {
  /** Undefined: from whenever it is applied. */
  start: Instant | undefined;
  /** Undefined: no end. Exclusive. */
  end: Instant | undefined;
}

/** A grant's active window, or undefined when a date is malformed (the dates rule reports it). */
export function grantWindow(
  grant: { start?: string | undefined; end?: string | undefined },
  zone: string,
): Window | undefined {
  const start = grant.start === undefined ? undefined : parseTime(grant.start, zone);
  const end = grant.end === undefined ? undefined : parseTime(grant.end, zone);
  if ((start && !start.ok) || (end && !end.ok)) return undefined;
  return { start: start?.ok ? start.at : undefined, end: end?.ok ? end.at : undefined };
}

export function isActive(window: Window, at: Instant): boolean {
  return (window.start === undefined || window.start <= at) && (window.end === undefined || at < window.end);
}
