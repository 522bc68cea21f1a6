import { TransientError } from '../types.js';
import { type Graph, type GraphRequest, type GraphResponse, ok, passing, said } from './graph.js';

/** Graph refused a read, or answered it in a way that cannot be used: retrying will not help. */
export class ReadRefused extends Error {
  override readonly name = 'ReadRefused';
}

/** One GET, and what its answer leads to. */
export interface Read {
  request: GraphRequest;
  /** What is being read, for messages: "reading the members of group VPN Users". */
  what: string;
  /** The application permission that allows it, named when Graph answers 403. */
  permission?: string;
  /** A 2xx answer's body: the reads it leads to (the next page, say). */
  next(body: unknown): Read[] | undefined;
  /** What a 404 means, when it is not a failure. */
  missing?: () => Read[] | undefined;
}

/**
 * Runs reads in rounds: every read that is ready goes at once, 20 to a
 * batch, and the reads their answers lead to (next pages, the members of a
 * group just found) make the next round. Every read must succeed: a
 * throttled or unavailable one is a TransientError (the run tries the whole
 * observation again), any other failure is ReadRefused.
 */
export async function crawl(graph: Graph, reads: readonly Read[]): Promise<void> {
  let round = [...reads];
  while (round.length > 0) {
    const responses = await graph.all(round.map((r) => r.request));
    const next: Read[] = [];
    for (const [i, read] of round.entries()) {
      const response = responses[i]!;
      if (ok(response.status)) next.push(...(read.next(response.body) ?? []));
      else if (response.status === 404 && read.missing) next.push(...(read.missing() ?? []));
      else throw failure(graph, read, response);
    }
    round = next;
  }
}

function failure(graph: Graph, read: Read, response: GraphResponse): Error {
  const text = `${read.what}: Graph answered ${said(response)}`;
  if (passing(response.status)) return new TransientError(text, graph.retryAfter(response));
  if (response.status === 403 && read.permission)
    return new ReadRefused(`${text}; iden's app needs the application permission ${read.permission}`);
  return new ReadRefused(text);
}

/** A bound on one collection's pages (100 million items at 999 a page): a server that never ends is not followed forever. */
const MAX_PAGES = 100_000;

/**
 * Every page of a collection, following @odata.nextLink exactly as Graph
 * wrote it (its skip token is Graph's, never made up here), only within
 * Graph's own origin and never the same page twice; `take` gets each page's
 * items, `done` what follows the last page.
 */
export function pages<T>(
  graph: Graph,
  url: string,
  what: string,
  take: (items: T[]) => void,
  options: { permission?: string; done?: () => Read[] | undefined; missing?: () => Read[] | undefined } = {},
): Read {
  const seen = new Set<string>();
  const page = (at: string, first: boolean): Read => ({
    request: { method: 'GET', url: at },
    what,
    ...(options.permission ? { permission: options.permission } : {}),
    ...(first && options.missing ? { missing: options.missing } : {}),
    next(body) {
      const answer = body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
      if (!Array.isArray(answer?.value)) throw new ReadRefused(`${what}: Graph's answer has no value list`);
      take(answer.value as T[]);
      const link = answer['@odata.nextLink'];
      if (typeof link !== 'string' || link === '') return options.done?.();
      const next = graph.relative(link);
      if (next === undefined)
        throw new ReadRefused(`${what}: the next page is outside ${graph.base}; it is not followed`);
      if (seen.has(next)) throw new ReadRefused(`${what}: Graph sent the same next page twice`);
      if (seen.size >= MAX_PAGES)
        throw new ReadRefused(`${what}: more than ${MAX_PAGES} pages; not read to the end`);
      seen.add(next);
      return [page(next, false)];
    },
  });
  return page(url, true);
}

/** An OData string literal: single quotes doubled. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A query string as Graph reads it: `$select`, `$filter` and friends, values percent-encoded. */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}
