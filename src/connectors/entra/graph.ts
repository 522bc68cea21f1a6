import type { Clock } from '../../model/clock.js';
import { fetchWithDeadline, retryAfterMs } from '../http.js';
import type { TokenSource } from './auth.js';

/** The most requests one JSON batch may carry (Graph's limit). */
export const BATCH_LIMIT = 20;

export interface GraphRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Relative to the Graph base URL, with its query: `/groups/{id}/members/$ref`. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphResponse {
  /** 0: the batch said nothing of this request. */
  status: number;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: unknown;
}

/** A request Graph answered with an error, as people read it: status, Graph's code and message. */
export function said(response: GraphResponse): string {
  const error = (response.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const message = typeof error?.message === 'string' ? error.message : undefined;
  if (response.status === 0) return 'the $batch response says nothing of it';
  return `${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
}

/** Graph's error code, if its body has one. */
export function codeOf(response: GraphResponse): string | undefined {
  const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Worth another try: throttled (429), unavailable (502, 503, 504), a token
 * Graph no longer takes (401: a new one is asked for), or no answer in a batch.
 */
export function passing(status: number): boolean {
  return [0, 401, 429, 502, 503, 504].includes(status);
}

export const ok = (status: number) => status >= 200 && status < 300;

/**
 * Microsoft Graph over plain fetch: a bearer token from the TokenSource, a
 * deadline on every call, JSON batches of up to 20 requests, nextLinks kept
 * to Graph's own origin. It returns every answer as it came and retries
 * nothing: the run's retry layer does.
 */
export class Graph {
  /** HTTP requests made to Graph (a batch is one). */
  calls = 0;
  readonly base: string;
  private readonly basePath: string;

  constructor(
    base: string,
    private readonly tokens: TokenSource,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.base = base.replace(/\/+$/, '');
    this.basePath = new URL(this.base).pathname.replace(/\/+$/, '');
  }

  /** Where a Retry-After tells to wait, in milliseconds. */
  retryAfter(response: GraphResponse): number | undefined {
    return retryAfterMs(response.headers['retry-after'], this.clock.now());
  }

  async send(request: GraphRequest): Promise<GraphResponse> {
    const token = await this.tokens.token();
    this.calls++;
    const { response, text } = await fetchWithDeadline(
      `${this.base}${request.url}`,
      {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      },
      this.timeoutMs,
      `${request.method} ${request.url.split('?')[0]}`,
    );
    if (response.status === 401) this.tokens.forget();
    return { status: response.status, headers: Object.fromEntries(response.headers), body: parse(text) };
  }

  /**
   * Up to 20 requests in one JSON batch, each answered on its own; one
   * request goes as itself. A batch Graph refuses whole (throttled, say)
   * gives each request that answer.
   */
  async batch(requests: readonly GraphRequest[]): Promise<GraphResponse[]> {
    if (requests.length > BATCH_LIMIT) throw new Error(`a batch of ${requests.length} requests`);
    if (requests.length === 0) return [];
    if (requests.length === 1) return [await this.send(requests[0]!)];
    const outer = await this.send({
      method: 'POST',
      url: '/$batch',
      body: {
        requests: requests.map((r, i) => ({
          id: String(i + 1),
          method: r.method,
          url: r.url,
          ...(r.body === undefined
            ? r.headers
              ? { headers: r.headers }
              : {}
            : { headers: { 'Content-Type': 'application/json', ...r.headers }, body: r.body }),
        })),
      },
    });
    if (outer.status !== 200) return requests.map(() => outer);
    const answers = (outer.body as { responses?: unknown } | undefined)?.responses;
    const byId = new Map(
      (Array.isArray(answers) ? (answers as InnerResponse[]) : []).map((a) => [String(a.id), a]),
    );
    return requests.map((_, i) => {
      const answer = byId.get(String(i + 1));
      if (!answer) return { status: 0, headers: {}, body: undefined };
      if (answer.status === 401) this.tokens.forget();
      const headers = Object.fromEntries(
        Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      return { status: Number(answer.status), headers, body: answer.body };
    });
  }

  /** Any number of requests, in batches of 20, one batch after another. */
  async all(requests: readonly GraphRequest[]): Promise<GraphResponse[]> {
    const responses: GraphResponse[] = [];
    for (let i = 0; i < requests.length; i += BATCH_LIMIT)
      responses.push(...(await this.batch(requests.slice(i, i + BATCH_LIMIT))));
    return responses;
  }

  /** A nextLink as a relative URL; undefined when it leaves Graph's origin (the token is never sent elsewhere). */
  relative(link: string): string | undefined {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return undefined;
    }
    const base = new URL(this.base);
    if (url.origin !== base.origin || !url.pathname.startsWith(`${this.basePath}/`)) return undefined;
    return `${url.pathname.slice(this.basePath.length)}${url.search}`;
  }
}

interface InnerResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // An outage page, not JSON: its status says enough.
    return undefined;
  }
}
