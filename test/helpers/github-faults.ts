import type { ServerResponse } from 'node:http';

/**
 * A fault a test GitHub answers some requests with instead of serving them:
 * a status (with GitHub's usual headers, rate-limit ones included, and
 * `headers` on top), no answer at all (`hang`), or the connection closed
 * unanswered (`drop`).
 */
export interface Fault {
  /** Which requests: reads, writes or any (default), and only those whose `METHOD /path` matches `route`. */
  on?: 'read' | 'write' | 'any';
  route?: RegExp;
  /** How many matching requests are served first. */
  after?: number;
  /** Only every Nth matching request (the others are served). */
  every?: number;
  /** How many it spoils (Infinity: every one). */
  times: number;
  status?: number;
  /** Headers added to the status; a function of the server's time for an HTTP date. */
  headers?: Record<string, string> | ((now: number) => Record<string, string>);
  /** The body's message; absent, an HTML page, as GitHub's edge sends for a 502. */
  message?: string;
  answer?: 'hang' | 'drop';
}

/** The faults added to a test server, taken in the order they were added. */
export class Faults {
  private readonly faults: Fault[] = [];
  private readonly hanging: ServerResponse[] = [];
  private readonly seen = new Map<Fault, number>();

  add(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Faults added and not yet used up (Infinity for one that spoils every request). */
  get unused(): number {
    return this.faults.reduce((n, f) => n + f.times, 0);
  }

  /** The fault this request meets, if any: every fault it matches counts it; the first added that fires is used. */
  take(method: string, path: string): Fault | undefined {
    const write = method !== 'GET';
    let fired: Fault | undefined;
    for (const f of this.faults) {
      if (f.times <= 0 || (f.on ?? 'any') === (write ? 'read' : 'write')) continue;
      if (f.route && !f.route.test(`${method} ${path}`)) continue;
      const seen = (this.seen.get(f) ?? 0) + 1;
      this.seen.set(f, seen);
      if (seen <= (f.after ?? 0) || (f.every !== undefined && seen % f.every !== 0)) continue;
      fired ??= f;
    }
    if (fired) fired.times--;
    return fired;
  }

  /** Answers with the fault: its status and body, nothing (kept until `release`), or a closed connection. */
  answer(res: ServerResponse, fault: Fault, headers: Record<string, string>, now: number): void {
    if (fault.answer === 'hang') {
      this.hanging.push(res);
      return;
    }
    if (fault.answer === 'drop') {
      res.destroy();
      return;
    }
    const extra = typeof fault.headers === 'function' ? fault.headers(now) : fault.headers;
    const html = fault.message === undefined;
    res.writeHead(fault.status ?? 502, {
      ...headers,
      'content-type': html ? 'text/html' : 'application/json; charset=utf-8',
      ...extra,
    });
    res.end(
      html
        ? '<html><body><h1>Unicorn!</h1><p>This page is taking too long to load.</p></body></html>'
        : JSON.stringify({ message: fault.message, documentation_url: 'https://docs.github.com/rest' }),
    );
  }

  /** Closes the connections of requests left unanswered, so the server can stop. */
  release(): void {
    for (const res of this.hanging.splice(0)) res.destroy();
  }
}
