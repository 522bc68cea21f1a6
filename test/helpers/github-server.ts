import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkResponse, sampleResponse } from './github-spec.js';

interface Pull {
  number: number;
  author: string;
  head: string;
  base: string;
  reviews: { login: string; state: string; commit: string; at: string }[];
}

/**
 * A loopback stand-in for the part of GitHub's REST API that pull-request
 * checks use: pulls, reviews (Link-header pages), issue comments and commit
 * statuses. Every response is checked against GitHub's published description
 * before it is sent, so the server cannot drift from the real API.
 */
export class GithubPullServer {
  readonly pulls = new Map<number, Pull>();
  readonly comments: { id: number; issue: number; body: string }[] = [];
  readonly statuses: { sha: string; state: string; context: string; description: string }[] = [];
  readonly requests: string[] = [];
  /** Responses that failed the check against GitHub's description; a test expects none. */
  readonly errors: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        // A response that does not match GitHub's description fails the test, not only this request.
        this.errors.push(e.message);
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: e.message }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => resolve(text));
    });
    this.requests.push(`${req.method} ${url.pathname}`);
    const send = (
      template: string,
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
    ) => {
      checkResponse(req.method ?? 'GET', template, status, payload);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-remaining': '4999',
        ...headers,
      });
      res.end(JSON.stringify(payload));
    };
    const user = (login: string) => ({
      ...sampleResponse('GET', '/users/{username}', 200),
      login,
      type: 'User',
    });
    const notFound = () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
    };
    const path = url.pathname;
    const pullMatch = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(path);
    const reviewsMatch = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/.exec(path);
    const commentsMatch = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
    const commentMatch = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
    const statusMatch = /^\/repos\/[^/]+\/[^/]+\/statuses\/([0-9a-f]{40})$/.exec(path);
    if (pullMatch && req.method === 'GET') {
      const pull = this.pulls.get(Number(pullMatch[1]));
      if (!pull) return notFound();
      const sample = sampleResponse('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 200);
      return send('/repos/{owner}/{repo}/pulls/{pull_number}', 200, {
        ...sample,
        number: pull.number,
        state: 'open',
        user: user(pull.author),
        head: { ...(sample.head as object), sha: pull.head, ref: 'pr', user: user(pull.author) },
        base: { ...(sample.base as object), sha: pull.base, ref: 'main', user: user('acme') },
      });
    }
    if (reviewsMatch && req.method === 'GET') {
      const pull = this.pulls.get(Number(reviewsMatch[1]));
      if (!pull) return notFound();
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const template = '/repos/{owner}/{repo}/pulls/{pull_number}/reviews';
      const all = pull.reviews.map((r, i) => ({
        ...sampleResponse('GET', template, 200),
        ...{
          id: i + 1,
          node_id: `R${i}`,
          body: '',
          html_url: 'https://example.com/',
          pull_request_url: 'https://example.com/',
        },
        _links: { html: { href: 'https://example.com/' }, pull_request: { href: 'https://example.com/' } },
        author_association: 'MEMBER',
        user: user(r.login),
        state: r.state,
        commit_id: r.commit,
        submitted_at: r.at,
      }));
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> =
        page * perPage < all.length
          ? { link: `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` }
          : {};
      return send(template, 200, slice, headers);
    }
    const comment = (c: { id: number; issue: number; body: string }) => ({
      ...sampleResponse('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 200),
      id: c.id,
      body: c.body,
      user: user('github-actions[bot]'),
    });
    if (commentsMatch) {
      const issue = Number(commentsMatch[1]);
      const template = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
      if (req.method === 'GET')
        return send(template, 200, this.comments.filter((c) => c.issue === issue).map(comment));
      const created = {
        id: this.comments.length + 1,
        issue,
        body: (JSON.parse(body) as { body: string }).body,
      };
      this.comments.push(created);
      return send(template, 201, comment(created));
    }
    if (commentMatch && req.method === 'PATCH') {
      const existing = this.comments.find((c) => c.id === Number(commentMatch[1]));
      if (!existing) return notFound();
      existing.body = (JSON.parse(body) as { body: string }).body;
      return send('/repos/{owner}/{repo}/issues/comments/{comment_id}', 200, comment(existing));
    }
    if (statusMatch && req.method === 'POST') {
      const { state, context, description } = JSON.parse(body) as {
        state: string;
        context: string;
        description: string;
      };
      this.statuses.push({ sha: statusMatch[1]!, state, context, description });
      return send('/repos/{owner}/{repo}/statuses/{sha}', 201, {
        ...sampleResponse('POST', '/repos/{owner}/{repo}/statuses/{sha}', 201),
        state,
        context,
        description,
        creator: user('github-actions[bot]'),
      });
    }
    notFound();
  }
}
