import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requiredCheckRefusal } from './github-checks.js';
import { checkRequest, checkResponse, sampleItem, sampleResponse } from './github-spec.js';

export interface PullCommitSpec {
  sha: string;
  /** GitHub logins; null where GitHub links the commit's email to no account. */
  author: string | null;
  committer: string | null;
  verified?: boolean;
  /** The emails the commit records (default <login>@example.com); GitHub itself is noreply@github.com. */
  authorEmail?: string;
  committerEmail?: string;
  /** The commit's message and author date, as git recorded them (a rebase keeps both). */
  message?: string;
  authorDate?: string;
}

interface Pull {
  number: number;
  author: string;
  head: string;
  base: string;
  /** The branch it merges into; default main. */
  baseRef?: string;
  reviews: { login: string; state: string; commit: string; at: string }[];
  commits?: PullCommitSpec[];
  /**
   * Set once merged: the merge commit (GitHub's merge_commit_sha), when, by
   * whom, and, for "Rebase and merge", the commits it put on the branch
   * (GitHub associates each with the pull request).
   */
  merged?: { commit: string; at: string; by: string; landed?: string[] };
  /** For a pull request opened through the API: its branch, title, body and requested reviewers. */
  headRef?: string;
  title?: string;
  body?: string;
  requested?: string[];
}

/** Who a token is: a person (a personal token), or an App installation, which GitHub answers 403 on /user. */
export type TokenKind = { login: string; kind: 'user' } | { login: string; kind: 'installation' };

/**
 * A loopback stand-in for the part of GitHub's REST API that pull-request
 * checks use: pulls, their commits and reviews (Link-header pages), issue
 * comments written as the token's identity, the authenticated user, and
 * commit statuses. Every request and response is checked against GitHub's
 * published description, so the server cannot drift from the real API.
 */
export class GithubPullServer {
  readonly pulls = new Map<number, Pull>();
  readonly comments: { id: number; issue: number; body: string; author: string }[] = [];
  readonly statuses: { sha: string; state: string; context: string; description: string }[] = [];
  readonly requests: string[] = [];
  /** Requests and responses that failed the check against GitHub's description; a test expects none. */
  readonly errors: string[] = [];
  /** Token to identity; an unknown token is a GitHub Actions job token. */
  readonly tokens = new Map<string, TokenKind>();
  defaultBranch = 'main';
  /** The bare repository standing for GitHub's copy: a new pull request's branches must be there. */
  remote: string | undefined;
  /** Logins (any case) reviews may be requested from; GitHub refuses anyone else. Unset: anyone. */
  collaborators: Set<string> | undefined;
  /** Status contexts branch protection requires before a merge (github-checks.ts). */
  requiredChecks: string[] = [];
  /** Answer every request with this status (a GitHub outage), when set. */
  down: number | undefined;
  /** Close the connection of the next request whose `METHOD /path` matches, unanswered (once each). */
  readonly drops: RegExp[] = [];
  /** Numeric account ids by lowercase login; any other login gets a stable one of its own. */
  readonly ids = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.errors.push(e.message);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: e.message }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  idOf(login: string): number {
    const known = this.ids.get(login.toLowerCase());
    if (known !== undefined) return known;
    let hash = 7;
    for (const c of login.toLowerCase()) hash = (hash * 31 + c.charCodeAt(0)) % 9_000_000;
    return 1_000_000 + hash;
  }

  /** A pull request opened through the API follows its branch on the remote, as GitHub's does after a push. */
  private follow(pull: Pull): void {
    if (!this.remote || !pull.headRef || pull.merged) return;
    const sha = this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${pull.headRef}`]);
    if (sha) pull.head = sha;
  }

  private git(args: string[]): string | undefined {
    try {
      return execFileSync('git', args, {
        cwd: this.remote,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch {
      return undefined;
    }
  }

  /**
   * "Merge a pull request": a real merge commit in the bare remote (the base
   * branch's tip and the head), as GitHub makes one; 409 when `sha` is not
   * the head, 405 when merged already or when it conflicts.
   */
  private merge(
    number: number,
    body: string,
    send: (template: string, status: number, payload: unknown) => void,
    fail: (status: number, message: string) => void,
  ): void {
    const template = '/repos/{owner}/{repo}/pulls/{pull_number}/merge';
    const pull = this.pulls.get(number);
    if (!pull || !this.remote) {
      fail(404, 'Not Found');
      return;
    }
    const asked = (body ? JSON.parse(body) : {}) as {
      sha?: string;
      commit_title?: string;
      commit_message?: string;
    };
    if (pull.merged) {
      fail(405, 'Pull Request is not mergeable');
      return;
    }
    this.follow(pull);
    if (asked.sha && asked.sha !== pull.head) {
      fail(409, 'Head branch was modified. Review and try the merge again.');
      return;
    }
    const refused = requiredCheckRefusal(this.statuses, pull.head, this.requiredChecks);
    if (refused) {
      fail(405, refused);
      return;
    }
    const baseRef = pull.baseRef ?? 'main';
    const tip = this.git(['rev-parse', `refs/heads/${baseRef}`])!;
    const tree = this.git(['merge-tree', '--write-tree', tip, pull.head]);
    if (!tree) {
      fail(405, 'Pull Request is not mergeable');
      return;
    }
    const title = asked.commit_title ?? `Merge pull request #${number} from acme/${pull.headRef ?? 'pr'}`;
    const message = asked.commit_message ? `${title}\n\n${asked.commit_message}` : title;
    // The merge is dated on the test's clock, never the calendar.
    const date = new Date(this.now()).toISOString();
    const env = {
      ...process.env,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
      GIT_AUTHOR_NAME: 'GitHub',
      GIT_AUTHOR_EMAIL: 'noreply@github.com',
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com',
    };
    const commit = execFileSync(
      'git',
      ['commit-tree', tree.split('\n')[0]!, '-p', tip, '-p', pull.head, '-m', message],
      { cwd: this.remote, encoding: 'utf8', env },
    ).trim();
    this.git(['update-ref', `refs/heads/${baseRef}`, commit, tip]);
    pull.merged = {
      commit,
      at: date,
      by: 'github-actions[bot]',
    };
    send(template, 200, { sha: commit, merged: true, message: 'Pull Request successfully merged' });
  }

  /** The test's clock, for what the server dates (merges); default TEST_NOW. */
  now: () => number = () => Date.parse('2026-11-27T12:00:00Z');

  private who(req: IncomingMessage): TokenKind {
    const token = (req.headers.authorization ?? '').replace(/^(token|bearer) /i, '');
    return this.tokens.get(token) ?? { login: 'github-actions[bot]', kind: 'installation' };
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
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const drop = this.drops.findIndex((d) => d.test(`${method} ${url.pathname}`));
    if (drop >= 0) {
      this.drops.splice(drop, 1);
      req.socket.destroy();
      return;
    }
    const send = (
      template: string,
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
    ) => {
      checkRequest(method, template, url.searchParams, body);
      checkResponse(method, template, status, payload);
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
      id: this.idOf(login),
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
    });
    const fail = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }));
    };
    if (this.down) return fail(this.down, 'Service Unavailable');
    const paged = <T>(template: string, all: T[]) => {
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> =
        page * perPage < all.length
          ? { link: `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` }
          : {};
      return send(template, 200, slice, headers);
    };
    const path = url.pathname;
    const match = (pattern: RegExp) => pattern.exec(path);
    const pullMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/);
    const reviewsMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/);
    const commitsMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/commits$/);
    const commentsMatch = match(/^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/);
    const commentMatch = match(/^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/);
    const statusMatch = match(/^\/repos\/[^/]+\/[^/]+\/statuses\/([0-9a-f]{40})$/);
    const newPullMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls$/);
    const requestedMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/requested_reviewers$/);
    const commitPullsMatch = match(/^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]{40})\/pulls$/);
    const pullFields = (pull: Pull, sample: Record<string, unknown>) => {
      const base = sample.base as { repo: Record<string, unknown> };
      return {
        ...sample,
        number: pull.number,
        html_url: `https://github.com/acme/access/pull/${pull.number}`,
        state: pull.merged ? 'closed' : 'open',
        merged_at: pull.merged?.at ?? null,
        closed_at: pull.merged?.at ?? null,
        merge_commit_sha: pull.merged?.commit ?? null,
        user: user(pull.author),
        head: {
          ...(sample.head as object),
          sha: pull.head,
          ref: pull.headRef ?? 'pr',
          user: user(pull.author),
        },
        title: pull.title ?? 'change',
        body: pull.body ?? null,
        requested_reviewers: (pull.requested ?? []).map(user),
        base: {
          ...base,
          sha: pull.base,
          ref: pull.baseRef ?? 'main',
          user: user('acme'),
          repo: { ...base.repo, default_branch: this.defaultBranch },
        },
      };
    };
    if (commitPullsMatch && method === 'GET') {
      // GitHub lists the pull requests a commit is associated with: its merge, and those whose head holds it.
      const sha = commitPullsMatch[1]!;
      const template = '/repos/{owner}/{repo}/commits/{commit_sha}/pulls';
      const item = sampleItem('GET', template, 200);
      const related = [...this.pulls.values()].filter(
        (p) =>
          p.merged?.commit === sha ||
          (p.merged?.landed ?? []).includes(sha) ||
          p.head === sha ||
          (p.commits ?? []).some((c) => c.sha === sha),
      );
      return paged(
        template,
        related.map((p) => pullFields(p, item)),
      );
    }
    if (newPullMatch && method === 'POST') {
      const template = '/repos/{owner}/{repo}/pulls';
      checkRequest(method, template, url.searchParams, body);
      const asked = JSON.parse(body) as { title: string; head: string; base: string; body?: string };
      const sha = (branch: string) => {
        if (!this.remote) return '0'.repeat(40);
        try {
          return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
            cwd: this.remote,
            encoding: 'utf8',
          }).trim();
        } catch {
          return undefined;
        }
      };
      const head = sha(asked.head);
      const base = sha(asked.base);
      // GitHub answers 422 "Validation Failed" for a branch it does not have, and for a second pull request of a branch.
      if (!head || !base)
        return fail(
          422,
          `Validation Failed: ${!head ? 'head' : 'base'} invalid (${!head ? asked.head : asked.base})`,
        );
      if ([...this.pulls.values()].some((p) => p.headRef === asked.head && !p.merged))
        return fail(422, `Validation Failed: A pull request already exists for acme:${asked.head}.`);
      const number = Math.max(0, ...this.pulls.keys()) + 1;
      const pull: Pull = {
        number,
        author: this.who(req).login,
        head,
        base,
        baseRef: asked.base,
        headRef: asked.head,
        title: asked.title,
        ...(asked.body !== undefined ? { body: asked.body } : {}),
        reviews: [],
        commits: [],
      };
      this.pulls.set(number, pull);
      return send(template, 201, {
        ...pullFields(pull, sampleResponse('POST', template, 201)),
        commits: 1,
        merged: false,
        merged_by: null,
      });
    }
    if (requestedMatch && method === 'POST') {
      const template = '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers';
      checkRequest(method, template, url.searchParams, body);
      const pull = this.pulls.get(Number(requestedMatch[1]));
      if (!pull) return fail(404, 'Not Found');
      const { reviewers = [] } = JSON.parse(body) as { reviewers?: string[] };
      if (reviewers.some((r) => r.toLowerCase() === pull.author.toLowerCase()))
        return fail(422, 'Review cannot be requested from pull request author.');
      if (this.collaborators && reviewers.some((r) => !this.collaborators!.has(r.toLowerCase())))
        return fail(
          422,
          'Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/access repository.',
        );
      pull.requested = [...(pull.requested ?? []), ...reviewers];
      return send(template, 201, {
        ...pullFields(pull, sampleResponse('POST', template, 201)),
      });
    }
    const userMatch = match(/^\/users\/([^/]+)$/);
    if (userMatch && method === 'GET') {
      const login = decodeURIComponent(userMatch[1]!);
      return send('/users/{username}', 200, {
        ...sampleResponse('GET', '/users/{username}', 200),
        ...user(login),
      });
    }
    if (path === '/user' && method === 'GET') {
      const me = this.who(req);
      if (me.kind === 'installation') return fail(403, 'Resource not accessible by integration');
      return send('/user', 200, { ...sampleResponse('GET', '/user', 200), ...user(me.login) });
    }
    const mergeMatch = match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/merge$/);
    if (mergeMatch && method === 'PUT') return this.merge(Number(mergeMatch[1]), body, send, fail);
    if (pullMatch && method === 'GET') {
      const pull = this.pulls.get(Number(pullMatch[1]));
      if (!pull) return fail(404, 'Not Found');
      this.follow(pull);
      const sample = sampleResponse('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 200);
      return send('/repos/{owner}/{repo}/pulls/{pull_number}', 200, {
        ...pullFields(pull, sample),
        commits: (pull.commits ?? []).length,
        merged: pull.merged !== undefined,
        merged_by: pull.merged ? user(pull.merged.by) : null,
      });
    }
    if (commitsMatch && method === 'GET') {
      const pull = this.pulls.get(Number(commitsMatch[1]));
      if (!pull) return fail(404, 'Not Found');
      const template = '/repos/{owner}/{repo}/pulls/{pull_number}/commits';
      const item = (c: PullCommitSpec) => {
        return {
          url: 'https://example.com/',
          sha: c.sha,
          node_id: `C_${c.sha.slice(0, 8)}`,
          html_url: 'https://example.com/',
          comments_url: 'https://example.com/',
          commit: {
            url: 'https://example.com/',
            author: {
              name: c.author ?? 'someone',
              email: c.authorEmail ?? `${c.author ?? 'someone'}@example.com`,
              date: c.authorDate ?? '2026-11-27T10:00:00Z',
            },
            committer: {
              name: c.committer ?? 'someone',
              email: c.committerEmail ?? `${c.committer ?? 'someone'}@example.com`,
              date: '2026-11-27T10:00:00Z',
            },
            message: c.message ?? 'change',
            comment_count: 0,
            tree: { sha: c.sha, url: 'https://example.com/' },
            verification: {
              verified: c.verified ?? false,
              reason: c.verified ? 'valid' : 'unsigned',
              payload: null,
              signature: null,
              verified_at: null,
            },
          },
          author: c.author === null ? null : user(c.author),
          committer: c.committer === null ? null : user(c.committer),
          parents: [],
        };
      };
      return paged(template, (pull.commits ?? []).map(item));
    }
    if (reviewsMatch && method === 'GET') {
      const pull = this.pulls.get(Number(reviewsMatch[1]));
      if (!pull) return fail(404, 'Not Found');
      const template = '/repos/{owner}/{repo}/pulls/{pull_number}/reviews';
      const all = pull.reviews.map((r, i) => ({
        ...sampleResponse('GET', template, 200),
        id: i + 1,
        node_id: `R${i}`,
        body: '',
        html_url: 'https://example.com/',
        pull_request_url: 'https://example.com/',
        _links: { html: { href: 'https://example.com/' }, pull_request: { href: 'https://example.com/' } },
        author_association: 'MEMBER',
        user: user(r.login),
        state: r.state,
        commit_id: r.commit,
        submitted_at: r.at,
      }));
      return paged(template, all);
    }
    const comment = (c: { id: number; issue: number; body: string; author: string }) => ({
      ...sampleResponse('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 200),
      id: c.id,
      body: c.body,
      user: user(c.author),
    });
    if (commentsMatch) {
      const issue = Number(commentsMatch[1]);
      const template = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
      if (method === 'GET')
        return paged(template, this.comments.filter((c) => c.issue === issue).map(comment));
      const created = {
        id: this.comments.length + 1,
        issue,
        body: (JSON.parse(body) as { body: string }).body,
        author: this.who(req).login,
      };
      this.comments.push(created);
      return send(template, 201, comment(created));
    }
    if (commentMatch && method === 'PATCH') {
      const existing = this.comments.find((c) => c.id === Number(commentMatch[1]));
      if (!existing) return fail(404, 'Not Found');
      // GitHub lets only a comment's author (or a maintainer) edit it; iden must never rely on the latter.
      if (existing.author !== this.who(req).login)
        this.errors.push(`comment ${existing.id} of ${existing.author} edited by ${this.who(req).login}`);
      existing.body = (JSON.parse(body) as { body: string }).body;
      return send('/repos/{owner}/{repo}/issues/comments/{comment_id}', 200, comment(existing));
    }
    if (statusMatch && method === 'POST') {
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
        creator: user(this.who(req).login),
      });
    }
    fail(404, 'Not Found');
  }
}
