import { AppStoppedError, TerminalError, TransientError } from '../types.js';

/** An answer from Okta that is not a success, with Okta's own words (its Error object). */
export class OktaError extends Error {
  override readonly name = 'OktaError';
  constructor(
    readonly status: number,
    /** `GET /api/v1/groups/…`: the method and path, never the query (it may hold a login) nor a token. */
    readonly route: string,
    readonly code: string | undefined,
    readonly summary: string,
    readonly causes: string[],
    readonly retryAfterMs: number | undefined,
  ) {
    const words = [code, summary].filter(Boolean).join(' ');
    const why = causes.length > 0 ? ` (${causes.join('; ')})` : '';
    super(`Okta answered ${status}${words ? ` ${words}` : ''}${why} to ${route}`);
  }
}

/** Reads Okta's Error body (errorCode, errorSummary, errorCauses); an outage page's text is cut short. */
export function oktaError(
  status: number,
  route: string,
  text: string,
  retryAfterMs: number | undefined,
): OktaError {
  let body: { errorCode?: unknown; errorSummary?: unknown; errorCauses?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = {};
  }
  const causes = Array.isArray(body.errorCauses)
    ? body.errorCauses.flatMap((c: { errorSummary?: unknown }) =>
        typeof c?.errorSummary === 'string' ? [c.errorSummary] : [],
      )
    : [];
  const summary =
    typeof body.errorSummary === 'string'
      ? body.errorSummary
      : text
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 120);
  return new OktaError(
    status,
    route,
    typeof body.errorCode === 'string' ? body.errorCode : undefined,
    summary,
    causes,
    retryAfterMs,
  );
}

/** What fixes a refused credential, by how the connector signs in. */
export interface CredentialHint {
  /** `OKTA_API_TOKEN holds a current API token` or the service app's equivalent. */
  refused: string;
  /** What the credential must be allowed, for a 403. */
  forbidden: string;
}

/**
 * Okta's answers in the connector contract: a dropped connection, a 429 and
 * 5xx are worth retrying; a refused credential stops the app's remaining
 * changes; anything else fails the change it was for.
 */
export function translate(e: unknown, what: string, hint: CredentialHint): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (!(e instanceof OktaError))
    return new TransientError(`${what}: ${(e as Error).message}`, undefined, { cause: e });
  if (e.status === 429 || e.status >= 500)
    return new TransientError(`${what}: ${e.message}`, e.retryAfterMs, { cause: e });
  if (e.status === 401)
    return new AppStoppedError(`${what}: ${e.message}: Okta refused the credentials; ${hint.refused}`, {
      cause: e,
    });
  if (e.status === 403) return new TerminalError(`${what}: ${e.message}: ${hint.forbidden}`, { cause: e });
  return new TerminalError(`${what}: ${e.message}`, { cause: e });
}

/** Whether a 400 says the role is already the user's (Okta's answer to assigning it twice). */
export function alreadyAssigned(e: unknown): boolean {
  return (
    e instanceof OktaError &&
    (e.status === 409 ||
      (e.status === 400 && [e.summary, ...e.causes].some((t) => /already assigned/i.test(t))))
  );
}
