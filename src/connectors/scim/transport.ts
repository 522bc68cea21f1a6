import { fetchWithDeadline, NoAnswerError, retryAfterMs } from '../http.js';
import { TerminalError, TransientError } from '../types.js';

/** A SCIM error response, with the service's own words. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

export interface Reply<T> {
  data: T;
  /** The resource's version, from the ETag header or meta.version, where the service keeps one. */
  etag: string | undefined;
}

/**
 * HTTP to one SCIM service with a bearer token: JSON in and out, every
 * request answered within `timeoutMs` or abandoned, the status checked
 * before the body is read as JSON (an outage page is HTML), errors carrying
 * the service's detail, scimType and Retry-After (seconds or an HTTP date,
 * read on the run's clock). It retries nothing: apply does.
 */
export class ScimClient {
  requests = 0;
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async call<T>(method: string, path: string, body?: unknown, ifMatch?: string): Promise<Reply<T>> {
    this.requests++;
    // What a request that got no answer is called: its route, the query left out.
    const route = `${method} ${path.split('?')[0]}`;
    const { response, text } = await fetchWithDeadline(
      `${this.base}${path}`,
      {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
          ...(ifMatch ? { 'if-match': ifMatch } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      this.timeoutMs,
      route,
    );
    const json = /json/i.test(response.headers.get('content-type') ?? '') || /^\s*[{[]/.test(text);
    let data: Record<string, unknown> = {};
    if (text && json) {
      try {
        data = JSON.parse(text) as Record<string, unknown>;
      } catch {
        data = {};
      }
    }
    if (!response.ok) {
      const detail =
        typeof data.detail === 'string'
          ? data.detail
          : text && !json
            ? `${response.statusText} (${text
                .replace(/<[^>]*>/g, ' ')
                .replace(/\s+/g, ' ')
                .trim()
                .slice(0, 120)})`
            : response.statusText;
      const scimType = typeof data.scimType === 'string' ? data.scimType : undefined;
      throw new ScimError(
        response.status,
        scimType,
        `${method} ${path}: ${response.status}${scimType ? ` ${scimType}` : ''}: ${detail}`,
        retryAfterMs(response.headers.get('retry-after'), this.now()),
      );
    }
    const meta = data.meta as { version?: unknown } | undefined;
    const etag =
      response.headers.get('etag') ?? (typeof meta?.version === 'string' ? meta.version : undefined);
    return { data: data as T, etag };
  }
}

/** Whether a refusal says the service does not take a path with a filter (it wants the whole list instead). */
export function refusesFilteredPath(e: unknown): boolean {
  return (
    e instanceof ScimError &&
    (e.status === 501 ||
      (e.status === 400 &&
        ['invalidPath', 'invalidFilter', 'noTarget', 'invalidSyntax'].includes(e.scimType ?? '')))
  );
}

/**
 * SCIM errors keep the service's words. Worth retrying: no answer in time or
 * a lost connection, 412 (edited meanwhile), 429, 502, 503, 504, and any
 * status that says when to come back (Retry-After), waited for as it says.
 */
export function translate(e: unknown, what: string): Error {
  if (e instanceof NoAnswerError)
    return new TransientError(`${what}: ${e.message}`, e.retryAfterMs, { cause: e });
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  if (e instanceof ScimError) {
    if ([412, 429, 502, 503, 504].includes(e.status) || e.retryAfterMs !== undefined)
      return new TransientError(`${what}: ${e.message}`, e.retryAfterMs, { cause: e });
    return new TerminalError(`${what}: ${e.message}`, { cause: e });
  }
  return new TerminalError(`${what}: ${(e as Error).message}`, { cause: e });
}
