import { AppStoppedError, TerminalError, TransientError } from '../types.js';
import type { Answer } from './transport.js';

/** Google's reasons for "slow down": its quotas (403 and 429) and concurrent-request limits. */
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/** Google's error envelope, read defensively: the reason and the message of its first error. */
export function reasonOf(answer: Answer): { reason: string | undefined; message: string } {
  const error = answer.body.error as
    | { message?: unknown; status?: unknown; errors?: { reason?: unknown; message?: unknown }[] }
    | undefined;
  const first = Array.isArray(error?.errors) ? error.errors[0] : undefined;
  const reason =
    typeof first?.reason === 'string'
      ? first.reason
      : typeof error?.status === 'string'
        ? error.status
        : undefined;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : typeof first?.message === 'string'
        ? first.message
        : `HTTP ${answer.status}`;
  return { reason, message };
}

/** "Google answered 404 notFound: Resource Not Found: memberKey", for messages. */
export function describe(answer: Answer): string {
  const { reason, message } = reasonOf(answer);
  return `Google answered ${answer.status}${reason ? ` ${reason}` : ''}: ${message}`;
}

/** Whether Google says to slow down or try later: retried by the run, after Retry-After when given. */
export function isTransient(answer: Answer): boolean {
  const { reason } = reasonOf(answer);
  return (
    answer.status === 401 ||
    answer.status === 429 ||
    answer.status >= 500 ||
    (answer.status === 403 && reason !== undefined && RATE_REASONS.has(reason))
  );
}

/**
 * A failed answer as the connector contract's error: rate limits, outages
 * and a refused token (fetched again) are transient; a 403 that is not a
 * rate limit means the admin or the delegation lacks a privilege, which
 * stops the app; the rest fail the change they belong to.
 */
export function failure(answer: Answer, what: string, adminEmail: string): Error {
  const said = describe(answer);
  if (answer.status === 401)
    return new TransientError(`${what}: ${said}; a new access token is fetched`, answer.retryAfterMs);
  if (isTransient(answer)) return new TransientError(`${what}: ${said}`, answer.retryAfterMs);
  if (answer.status === 403)
    return new AppStoppedError(
      `${what}: ${said}; ${adminEmail} needs an admin role that manages groups and licences, and domain-wide delegation the scopes this app uses`,
    );
  return new TerminalError(`${what}: ${said}`);
}
