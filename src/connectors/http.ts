import { TransientError } from './types.js';

/** How long one request to an app may take, unless its settings say otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * A `Retry-After` header's wait in milliseconds: delay-seconds or an HTTP
 * date (RFC 9110 §10.2.3), read against `now`; undefined when absent,
 * unreadable or already past.
 */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return seconds > 0 ? seconds * 1000 : undefined;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const wait = at - now;
  return wait > 0 ? wait : undefined;
}

/** A request that got no answer in time, or no answer at all: worth another try. */
export class NoAnswerError extends TransientError {}

/**
 * fetch with a deadline: a request that has not been answered (headers and
 * body) within `timeoutMs` is aborted and thrown as a NoAnswerError, as is a
 * connection that fails; `what` names the request in the message (never a
 * token: pass no secret in it).
 */
export async function fetchWithDeadline(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<{ response: Response; text: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal });
    const text = await response.text();
    return { response, text };
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } };
    if (error.name === 'TimeoutError' || signal.aborted)
      throw new NoAnswerError(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`, undefined, {
        cause: e,
      });
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new NoAnswerError(`${what}: ${cause}`, undefined, { cause: e });
  }
}
