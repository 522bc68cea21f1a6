import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { type Clock as FullClock, systemClock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';
import { fetchWithDeadline } from '../http.js';
import type { GithubConnector } from './settings.generated.js';

export type Client = Octokit;

export interface ContentLimit {
  count: number;
  windowMs: number;
  name: string;
}

/** GitHub's documented limits for content-creating requests (80 a minute, 500 an hour), or the app's own; 0 is none. */
export function contentLimits(perMinute = 80, perHour = 500): ContentLimit[] {
  return [
    { count: perMinute, windowMs: 60_000, name: `${perMinute} content-creating requests a minute` },
    { count: perHour, windowMs: 3_600_000, name: `${perHour} content-creating requests an hour` },
  ].filter((l) => l.count > 0);
}

/** The pacer's time: the run's clock (model/clock.ts), of which it needs now and sleep. */
export type Clock = Pick<FullClock, 'now' | 'sleep'>;

/**
 * Paces writes as GitHub asks integrators to: one at a time, at least
 * `intervalMs` apart, and content-creating ones (POST, PUT, PATCH) within
 * GitHub's documented limits, 80 a minute and 500 an hour. A long wait says
 * how long, and how many writes remain.
 */
export class Pacer {
  private last = Number.NEGATIVE_INFINITY;
  private readonly recent: number[] = [];
  /** Writes still to make in this run, when the session knows (for the notice of a long wait). */
  remaining: number | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onNotice: (text: string) => void = () => undefined,
    private readonly clock: Clock = systemClock,
    private readonly limits: ContentLimit[] = contentLimits(),
  ) {}

  async beforeWrite(contentCreating: boolean): Promise<void> {
    let until = this.last + this.intervalMs;
    let reason: string | undefined;
    if (contentCreating) {
      const now = this.clock.now();
      while (this.recent.length > 0 && this.recent[0]! <= now - 3_600_000) this.recent.shift();
      for (const limit of this.limits) {
        const inWindow = this.recent.filter((t) => t > now - limit.windowMs);
        if (inWindow.length < limit.count) continue;
        const free = inWindow[inWindow.length - limit.count]! + limit.windowMs;
        if (free > until) {
          until = free;
          reason = limit.name;
        }
      }
    }
    const wait = until - this.clock.now();
    if (wait > 0) {
      if (reason && wait >= 10_000) {
        const left =
          this.remaining !== undefined
            ? `; ${this.remaining} write${this.remaining === 1 ? '' : 's'} left`
            : '';
        this.onNotice(`GitHub allows ${reason}: waiting ${formatDuration(wait)}${left}`);
      }
      await this.clock.sleep(wait);
    }
    const now = this.clock.now();
    this.last = now;
    if (contentCreating) this.recent.push(now);
    if (this.remaining !== undefined) this.remaining = Math.max(0, this.remaining - 1);
  }
}

/** Statuses whose response has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch for octokit with a deadline on each request, body included: a
 * request not answered in `timeoutMs`, or whose connection fails, throws a
 * NoAnswerError naming the method and path (octokit wraps it; translate makes
 * it transient). The body is read here because octokit, reading it itself,
 * takes a body cut short for an empty one: a page of members read as none.
 */
export function fetchWithin(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const what = `${init?.method ?? 'GET'} ${url.pathname}`;
    const { response, text } = await fetchWithDeadline(url.href, init ?? {}, timeoutMs, what);
    const answer = new Response(NO_BODY.has(response.status) ? null : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(answer, 'url', { value: response.url });
    return answer;
  };
}

/**
 * A plain octokit: a token (tokenEnv, default GITHUB_TOKEN) or a GitHub App
 * installation, the organisation's API (baseUrl, GITHUB_API_URL, or
 * api.github.com), a deadline on every request (timeoutMs), every write
 * through the pacer, and no retries of its own (the run retries, in one place).
 */
export function createClient(
  settings: GithubConnector,
  env: NodeJS.ProcessEnv,
  pacer: Pacer,
  timeoutMs: number,
): Client {
  const baseUrl = settings.baseUrl ?? env.GITHUB_API_URL ?? 'https://api.github.com';
  const auth = settings.app
    ? {
        authStrategy: createAppAuth,
        auth: {
          appId: settings.app.appId,
          privateKey: env[settings.app.privateKeyEnv] ?? '',
          installationId: settings.app.installationId,
        },
      }
    : { auth: env[settings.tokenEnv ?? 'GITHUB_TOKEN'] };
  const octokit = new Octokit({
    ...auth,
    baseUrl,
    userAgent: 'iden',
    request: { fetch: fetchWithin(timeoutMs) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  octokit.hook.before('request', async (options) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    // Fetching an App installation token is not a write to the organisation.
    if (method === 'GET' || String(options.url).includes('/access_tokens')) return;
    await pacer.beforeWrite(method !== 'DELETE');
  });
  return octokit;
}
