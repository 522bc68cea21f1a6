import { RequestError } from '@octokit/request-error';
import { NoAnswerError, retryAfterMs } from '../http.js';
import { TerminalError, TransientError } from '../types.js';

/** GitHub's advice for a secondary limit that names no wait: at least a minute. */
const SECONDARY_WAIT_MS = 60_000;

/**
 * A failed request as people read it: the status, the route, and GitHub's
 * message (never the token); a request that got no answer says what happened
 * to the connection instead.
 */
export function describeError(e: unknown): string {
  if (!(e instanceof RequestError)) return e instanceof Error ? e.message : String(e);
  const route = `${e.request.method} ${new URL(e.request.url).pathname}`;
  if (!e.response) {
    // Octokit wraps what fetch threw (a NoAnswerError, which names the route) in a RequestError without a response.
    const cause = e.cause;
    return cause instanceof NoAnswerError
      ? cause.message
      : `${route}: ${cause instanceof Error ? cause.message : e.message}`;
  }
  const message = messageOf(e.response.data) ?? e.message;
  return `GitHub answered ${e.status} to ${route}${message && message !== String(e.status) ? `: ${message}` : ''}`;
}

/** GitHub's `message`; a gateway's HTML page (a 502 from its edge) says nothing worth printing. */
function messageOf(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string')
    return (data as { message: string }).message;
  if (typeof data === 'string' && data.length > 0 && !/^\s*</.test(data)) return data.slice(0, 200);
  return undefined;
}

/**
 * How long GitHub asks to wait before a request it refused for a rate limit
 * is sent again, or undefined when the refusal is no rate limit. Retry-After
 * (seconds or an HTTP date) wins; the primary limit's reset counts only when
 * `x-ratelimit-remaining` is 0 (GitHub sends the reset, up to an hour ahead,
 * on every response); a secondary limit that names no wait gets GitHub's
 * advised minute.
 */
function rateLimitWait(
  status: number,
  headers: Record<string, string | number | undefined>,
  message: string,
  now: number,
): { waitMs: number | undefined } | undefined {
  const retryAfter = headers['retry-after'];
  const exhausted = String(headers['x-ratelimit-remaining']) === '0';
  // "secondary rate limit", and the older "abuse detection mechanism" wording GitHub still sends.
  const secondary = /rate limit|abuse detection/i.test(message);
  if (status !== 429 && !(status === 403 && (retryAfter !== undefined || exhausted || secondary)))
    return undefined;
  const after = retryAfterMs(retryAfter === undefined ? undefined : String(retryAfter), now);
  if (after !== undefined) return { waitMs: after };
  if (exhausted) {
    const reset = Number(headers['x-ratelimit-reset']) * 1000 - now;
    return { waitMs: Number.isFinite(reset) && reset > 0 ? reset : undefined };
  }
  return { waitMs: SECONDARY_WAIT_MS };
}

/**
 * Turns octokit's errors into the connector contract's: rate limits, server
 * errors and requests that got no answer are transient (with the wait GitHub
 * asked for, if any), the rest terminal. `now` is the run's clock, which an
 * HTTP-date Retry-After and a rate-limit reset are read against.
 */
export function translate(e: unknown, what: string, now: number, username?: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (!(e instanceof RequestError))
    return new TransientError(`${what}: ${describeError(e)}`, undefined, { cause: e });
  // No answer, or a connection lost: the change it hit is tried again.
  if (!e.response) return new TransientError(`${what}: ${describeError(e)}`, undefined, { cause: e });
  const headers = e.response.headers as Record<string, string | number | undefined>;
  const message = messageOf(e.response.data) ?? e.message;
  const limited = rateLimitWait(e.status, headers, message, now);
  if (limited) return new TransientError(`${what}: ${describeError(e)}`, limited.waitMs, { cause: e });
  if (e.status >= 500) {
    // Retry-After is honoured on any status; without it the retry layer's backoff is the only wait.
    const retryAfter = headers['retry-after'];
    const wait = retryAfterMs(retryAfter === undefined ? undefined : String(retryAfter), now);
    return new TransientError(`${what}: ${describeError(e)}`, wait, { cause: e });
  }
  if (e.status === 404 && username)
    return new TerminalError(
      `${what}: no GitHub user '${username}' (or no access to it): ${describeError(e)}`,
      { cause: e },
    );
  if (e.status === 422 && username)
    return new TerminalError(`${what}: ${describeError(e)}; is '${username}' a GitHub user?`, { cause: e });
  return new TerminalError(`${what}: ${describeError(e)}`, { cause: e });
}
