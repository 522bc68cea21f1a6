import { count } from '../../util/plural.js';
import { fetchWithDeadline, retryAfterMs } from '../http.js';
import { TransientError } from '../types.js';
import type { TokenSource } from './auth.js';
import { boundaryOf, decodeBatch, encodeBatch } from './multipart.js';
import type { Pacer } from './pacer.js';

/** One of the two APIs: its root URL, its pace, and how people call it. */
export interface Api {
  root: string;
  label: string;
  pacer: Pacer;
}

export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The path from the API's root, with its parameters already encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** What Google answered one call: any status, the JSON body when there is one. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfterMs: number | undefined;
}

/** Requests and the units Google counts them as, per API and for tokens. */
export interface Counts {
  /** HTTP requests made (a batch is one). */
  http: number;
  /** Requests as Google's quota counts them (each one in a batch). */
  units: number;
}

/**
 * HTTP to Google's JSON APIs with one service account's tokens. Calls made
 * at the same moment (the steps of a run, the first pages of every group)
 * go out together in one batch request of up to `batchSize`, one batch at
 * a time per API, each within the API's pace. Every request has a deadline.
 * It retries nothing: the run does.
 */
export class GoogleClient {
  readonly counts = new Map<string, Counts>();
  private readonly lanes = new Map<Api, Lane>();

  constructor(
    private readonly tokens: TokenSource,
    readonly batchSize: number,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  /** Google's answer to one call, sent alone or in a batch with others made meanwhile. */
  call(api: Api, call: Call): Promise<Answer> {
    let lane = this.lanes.get(api);
    if (!lane) {
      lane = new Lane((calls) => this.send(api, calls), this.batchSize);
      this.lanes.set(api, lane);
    }
    return lane.enqueue(call);
  }

  private count(api: Api, units: number): void {
    const counts = this.counts.get(api.label) ?? { http: 0, units: 0 };
    counts.http++;
    counts.units += units;
    this.counts.set(api.label, counts);
  }

  /** Sends calls, one alone or several as a batch; an answer or an error for each, in order. */
  private async send(api: Api, calls: Call[]): Promise<(Answer | Error)[]> {
    await api.pacer.take(calls.length);
    const token = await this.tokens.token();
    this.count(api, calls.length);
    const headers = { authorization: `Bearer ${token}` };
    let answers: (Answer | Error)[];
    if (calls.length === 1) {
      const call = calls[0]!;
      const what = `${call.method} ${api.label} ${call.path.split('?')[0]}`;
      const { response, text } = await fetchWithDeadline(
        `${api.root}${pathOf(call).slice(1)}`,
        {
          method: call.method,
          headers: call.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        },
        this.timeoutMs,
        what,
      );
      answers = [answerOf(response.status, text, response.headers.get('retry-after'), this.now())];
    } else answers = await this.sendBatch(api, calls, headers);
    if (answers.some((a) => !(a instanceof Error) && a.status === 401)) this.tokens.invalidate();
    return answers;
  }

  private async sendBatch(
    api: Api,
    calls: Call[],
    headers: Record<string, string>,
  ): Promise<(Answer | Error)[]> {
    const boundary = `batch_iden_${calls.length}_${(this.counts.get(api.label)?.http ?? 0).toString(36)}`;
    const what = `a batch of ${count(calls.length, `${api.label} request`)}`;
    const { response, text } = await fetchWithDeadline(
      `${api.root}batch`,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': `multipart/mixed; boundary=${boundary}` },
        body: encodeBatch(
          calls.map((c) => ({ method: c.method, path: pathOf(c), body: c.body })),
          boundary,
        ),
      },
      this.timeoutMs,
      what,
    );
    // The batch as a whole refused (a bad token, an outage): every call has that answer.
    if (!response.ok) {
      const answer = answerOf(response.status, text, response.headers.get('retry-after'), this.now());
      return calls.map(() => answer);
    }
    const parts = decodeBatch(text, boundaryOf(response.headers.get('content-type')) ?? '');
    return calls.map((_, i) => {
      const part = parts?.get(i);
      if (!part) return new TransientError(`${what}: Google's answer lacks the answer to request ${i + 1}`);
      return answerOf(part.status, part.text, part.headers['retry-after'] ?? null, this.now());
    });
  }
}

/** The path and query of a call, from the host's root. */
function pathOf(call: Call): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) query.set(k, String(v));
  const search = query.toString();
  return `/${call.path}${search ? `?${search}` : ''}`;
}

function answerOf(status: number, text: string, retryAfter: string | null, now: number): Answer {
  let body: Record<string, unknown> = {};
  if (text.trim()) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // An outage page or a proxy's text: kept as the message.
      body = {
        error: {
          message: text
            .replace(/<[^>]*>/g, ' ')
            .replace(/\s+/g, ' ')
            .trim()
            .slice(0, 160),
        },
      };
    }
  }
  return { status, body, retryAfterMs: retryAfterMs(retryAfter, now) };
}

/**
 * Calls queued for one API: whatever is waiting when the previous request
 * returns goes out together, up to `size`, so steps that run at once share
 * a batch request instead of each making its own.
 */
class Lane {
  private readonly queue: { call: Call; resolve: (a: Answer) => void; reject: (e: Error) => void }[] = [];
  private busy = false;
  private scheduled = false;

  constructor(
    private readonly send: (calls: Call[]) => Promise<(Answer | Error)[]>,
    private readonly size: number,
  ) {}

  enqueue(call: Call): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // Once the callers of this moment have all queued theirs.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const batch = this.queue.splice(0, this.size);
    try {
      const answers = await this.send(batch.map((b) => b.call));
      batch.forEach((b, i) => {
        const answer = answers[i]!;
        if (answer instanceof Error) b.reject(answer);
        else b.resolve(answer);
      });
    } catch (e) {
      for (const b of batch) b.reject(e as Error);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
