import { fetchWithDeadline, retryAfterMs } from '../http.js';
import { oktaError } from './errors.js';
import { bucketOf, type RateLimits, rateHeaders } from './pace.js';

/** How the connector signs its requests: an API token (SSWS) or a service app's access token (Bearer). */
export interface Auth {
  /** The Authorization header; `write` asks for a credential that may change things. */
  header(write: boolean): Promise<string>;
}

export interface Reply<T> {
  status: number;
  data: T;
  /** The next page's URL, from the Link header (rel="next"). */
  next: string | undefined;
}

/** Every `<url>; rel="x"` of Link headers (fetch joins several with commas). */
export function links(header: string | null): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of (header ?? '').matchAll(/<([^>]*)>\s*;\s*rel="?([^";,]+)"?/g))
    found.set(m[2]!.trim(), m[1]!);
  return found;
}

/** A safety stop for a list that never ends (a server that keeps answering the same page). */
const MAX_PAGES = 100_000;

/**
 * HTTP to one Okta org: every request paced within iden's share of its
 * rate-limit bucket, answered within the deadline, its rate-limit headers
 * read back, and any answer but a success thrown as an OktaError with
 * Okta's words. It retries nothing: the run does, in one place.
 */
export class OktaClient {
  /** Requests made, and by bucket: what the bench counts. */
  requests = 0;
  readonly byBucket = new Map<string, number>();
  readonly base: string;
  private refusal: Error | undefined;

  constructor(
    orgUrl: string,
    private readonly auth: Auth,
    readonly rates: RateLimits,
    private readonly timeoutMs: number,
  ) {
    this.base = orgUrl.replace(/\/+$/, '');
  }

  /** One request; `pathOrUrl` is a path under the org, or a next-page URL Okta gave. */
  async call<T>(
    method: string,
    pathOrUrl: string,
    options: {
      query?: Record<string, string | number>;
      body?: unknown;
      /** A read made for a write (finding the user a grant names): signed with the credential that writes. */
      forWrite?: boolean;
    } = {},
  ): Promise<Reply<T>> {
    const url = new URL(pathOrUrl.startsWith('/') ? `${this.base}${pathOrUrl}` : pathOrUrl);
    // A next link is followed as Okta gives it, but only to the org itself: never send the token elsewhere.
    if (url.origin !== new URL(this.base).origin)
      throw new Error(`${method} ${url.pathname}: a link to ${url.origin}, not to the org; not followed`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    const route = `${method} ${url.pathname}`;
    const write = method !== 'GET';
    const bucket = bucketOf(method, url.pathname);
    const authorization = await this.auth.header(write || options.forWrite === true);
    const answered = await this.rates.acquire(bucket, write);
    // Once Okta has refused the credentials, nothing more is sent with them this run.
    if (this.refusal) {
      answered();
      throw this.refusal;
    }
    this.requests++;
    this.byBucket.set(bucket, (this.byBucket.get(bucket) ?? 0) + 1);
    let reply: { response: Response; text: string };
    try {
      reply = await fetchWithDeadline(
        url.href,
        {
          method,
          headers: {
            authorization,
            accept: 'application/json',
            'user-agent': 'iden',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        },
        this.timeoutMs,
        route,
      );
    } finally {
      answered();
    }
    const { response, text } = reply;
    const limits = rateHeaders(response.headers);
    if (response.status === 429) {
      const wait = this.rates.refused(bucket, limits);
      throw oktaError(429, route, text, wait);
    }
    this.rates.record(bucket, limits);
    if (response.status === 401) {
      this.refusal = oktaError(401, route, text, undefined);
      throw this.refusal;
    }
    if (!response.ok)
      throw oktaError(
        response.status,
        route,
        text,
        retryAfterMs(response.headers.get('retry-after'), this.rates.clock.now()),
      );
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw oktaError(502, route, `not JSON: ${text.slice(0, 80)}`, undefined);
    }
    return {
      status: response.status,
      data: data as T,
      next: links(response.headers.get('link')).get('next'),
    };
  }

  /** Every item of a list, following the Link header's next page to the end. */
  async list<T>(path: string, query: Record<string, string | number>, forWrite = false): Promise<T[]> {
    const all: T[] = [];
    let page = await this.call<T[]>('GET', path, { query, forWrite });
    for (let n = 1; ; n++) {
      if (!Array.isArray(page.data))
        throw new Error(`GET ${path}: Okta answered a list that is not an array`);
      all.push(...page.data);
      if (!page.next) return all;
      if (n >= MAX_PAGES) throw new Error(`GET ${path}: more than ${MAX_PAGES} pages; stopped`);
      page = await this.call<T[]>('GET', page.next, { forWrite });
    }
  }
}
