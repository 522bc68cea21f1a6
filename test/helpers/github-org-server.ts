import type { KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerInstallationToken } from './github-app-token.js';
import { answerCopilot } from './github-copilot.js';
import { type Fault, Faults } from './github-faults.js';
import { checkRequest, checkResponse, type Description, description, sampleResponse } from './github-spec.js';

type OrgRole = 'admin' | 'member';
type Invitation = { id: number; login: string; role: 'direct_member' | 'admin'; teams: string[] };

export interface OrgServerOptions {
  /** Added to every response, to model a distant API. */
  latencyMs?: number;
  /** Every Nth write is answered with a secondary-rate-limit 403 and retry-after: 1 (0: never). */
  secondaryLimitEvery?: number;
  /** Which GitHub it is: api.github.com, or an Enterprise Server version, which lacks some routes (404). */
  plan?: 'api.github.com' | 'ghes-3.17' | 'ghes-3.19';
  /** The server's time (rate-limit resets, HTTP dates): a test's clock; absent, the system's. */
  now?: () => number;
}

/**
 * An in-memory GitHub organisation on loopback, behaving as GitHub's REST API
 * does for what the connector uses: members and roles, invitations (joining
 * only once accepted), teams, repository collaborators and Copilot seats;
 * Link-header pagination (30 a page by default, 100 at most), rate-limit
 * headers, a secondary-limit 403 with retry-after, and idempotent PUTs.
 * Every response is checked against GitHub's published description before it
 * is sent; a mismatch is recorded in `errors` and answered 500.
 */
export class GithubOrgServer {
  readonly users = new Set<string>();
  readonly members = new Map<string, OrgRole>();
  readonly invitations: Invitation[] = [];
  /** Invitations that failed or expired, with why. */
  readonly failed: (Invitation & { reason: string })[] = [];
  readonly teams = new Map<string, Map<string, 'member' | 'maintainer'>>();
  readonly repos = new Map<string, Map<string, string>>();
  readonly repoInvitations = new Map<string, Map<string, string>>();
  readonly copilot = new Set<string>();
  /** Copilot seats pending cancellation (cancelled, kept to the end of the billing cycle): login → that date. */
  readonly copilotCancelling = new Map<string, string>();
  readonly requests: string[] = [];
  readonly errors: string[] = [];
  /** The Authorization header of every request, to see which credential was used. */
  readonly authorizations: string[] = [];
  /** A GitHub App's public key: installation tokens are issued only for a JWT it verifies. */
  appKey: KeyObject | undefined;
  url = '';
  private server: Server | undefined;
  private writes = 0;
  private nextId = 100;
  private remaining = 5000;
  private readonly faults = new Faults();

  constructor(
    readonly org: string,
    private readonly options: OrgServerOptions = {},
  ) {
    // Every Nth write refused for a secondary limit, as GitHub does under a burst.
    const every = options.secondaryLimitEvery ?? 0;
    if (every > 0)
      this.faults.add({
        on: 'write',
        every,
        times: Number.POSITIVE_INFINITY,
        status: 403,
        headers: { 'retry-after': '1' },
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      });
  }

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
    this.faults.release();
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Spoils the requests `fault` matches, in turn with the faults added before it. */
  fail(fault: Fault): void {
    this.faults.add(fault);
  }

  /** Faults added and not yet used up (Infinity for one that spoils every request). */
  get unusedFaults(): number {
    return this.faults.unused;
  }

  /** The seat is cancelled in GitHub's settings, as `DELETE …/selected_users` does: pending to the end of the cycle. */
  cancelSeat(login: string): void {
    if (this.copilot.delete(login)) this.copilotCancelling.set(login, '2026-12-01');
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** The invitation expires unaccepted: GitHub lists it among the failed ones. */
  expire(login: string): void {
    const index = this.invitations.findIndex((i) => i.login === login.toLowerCase());
    const invitation = this.invitations.splice(index, 1)[0]!;
    this.failed.push({ ...invitation, reason: 'Invitation expired' });
  }

  /** The invitee joins: the invitation becomes membership, with the teams it named. */
  accept(login: string): void {
    const index = this.invitations.findIndex((i) => i.login === login.toLowerCase());
    const invitation = this.invitations.splice(index, 1)[0]!;
    this.members.set(invitation.login, invitation.role === 'admin' ? 'admin' : 'member');
    for (const slug of invitation.teams) this.teams.get(slug)?.set(invitation.login, 'member');
  }

  get writeCount(): number {
    return this.writes;
  }

  private api: Description | undefined;

  /** The description's path template a request's path matches, if any. */
  private templateOf(method: string, pathname: string): string | undefined {
    this.api ??= description(this.options.plan ?? 'api.github.com');
    const api = this.api;
    return Object.keys(api.paths).find(
      (template) =>
        api.paths[template]?.[method.toLowerCase()] &&
        new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => resolve(text));
    });
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    this.requests.push(`${method} ${url.pathname}`);
    this.authorizations.push(String(req.headers.authorization ?? ''));
    const token = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (token && method === 'POST')
      return answerInstallationToken(
        res,
        token[1]!,
        String(req.headers.authorization ?? ''),
        this.appKey,
        this.now(),
      );
    // A route this GitHub does not have (Enterprise Server lacks some): 404, as it answers.
    if (!this.templateOf(method, url.pathname)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/enterprise-server/rest',
        }),
      );
      return;
    }
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    this.remaining = Math.max(0, this.remaining - 1);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(Math.floor(this.now() / 1000) + 3600),
      'x-ratelimit-used': String(5000 - this.remaining),
      'x-ratelimit-resource': 'core',
      date: new Date(this.now()).toUTCString(),
    };
    const send = (
      template: string,
      status: number,
      payload?: unknown,
      extra: Record<string, string> = {},
    ) => {
      checkRequest(method, template, url.searchParams, raw, this.api);
      checkResponse(method, template, status, payload ?? null, this.api);
      res.writeHead(status, { ...headers, ...extra });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const list = (template: string, items: unknown[]) => {
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const page = Number(url.searchParams.get('page') ?? 1);
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const link = (n: number) => {
        const next = new URL(url);
        next.searchParams.set('page', String(n));
        return `<${this.url}${next.pathname}${next.search}>`;
      };
      const links = page < last ? { link: `${link(page + 1)}; rel="next", ${link(last)}; rel="last"` } : {};
      send(template, 200, items.slice((page - 1) * perPage, page * perPage), links);
    };
    const isWrite = method !== 'GET';
    if (isWrite) this.writes++;
    const fault = this.faults.take(method, url.pathname);
    if (fault) {
      // The request itself must still be one GitHub's description allows.
      checkRequest(method, this.templateOf(method, url.pathname)!, url.searchParams, raw, this.api);
      return this.faults.answer(res, fault, headers, this.now());
    }
    const path = url.pathname.split('/').filter(Boolean);
    const [root, owner, kind, a, b, c] = path;
    const validation = (template: string) =>
      send(template, 422, {
        message: 'Validation Failed',
        documentation_url: 'https://docs.github.com/rest',
        errors: [{ code: 'invalid' }],
      });
    const user = (login: string) => ({
      ...sampleResponse('GET', '/users/{username}', 200),
      login,
      id: login.length,
      type: 'User',
    });

    if (root === 'orgs' && owner === this.org && kind === 'members' && !a && method === 'GET') {
      const role = url.searchParams.get('role') ?? 'all';
      const logins = [...this.members].filter(([, r]) => role === 'all' || r === role).map(([l]) => l);
      return list('/orgs/{org}/members', logins.sort().map(user));
    }
    const invitation = (template: string, i: Invitation, extra: Record<string, unknown> = {}) => ({
      ...sampleResponse('GET', template, 200),
      ...{ id: i.id, login: i.login, email: null, role: i.role, created_at: '2026-11-27T10:00:00Z' },
      ...{ inviter: user('iden'), team_count: i.teams.length, node_id: `I${i.id}` },
      ...{ invitation_teams_url: 'https://example.com/', ...extra },
    });
    if (root === 'orgs' && owner === this.org && kind === 'invitations' && !a && method === 'GET') {
      const template = '/orgs/{org}/invitations';
      return list(
        template,
        this.invitations.map((i) => invitation(template, i)),
      );
    }
    if (root === 'orgs' && owner === this.org && kind === 'failed_invitations' && method === 'GET') {
      const template = '/orgs/{org}/failed_invitations';
      const failure = (i: Invitation & { reason: string }) =>
        invitation(template, i, {
          created_at: '2026-11-20T10:00:00Z',
          failed_at: '2026-11-27T10:00:00Z',
          failed_reason: i.reason,
        });
      return list(template, this.failed.map(failure));
    }
    if (root === 'orgs' && owner === this.org && kind === 'memberships' && a) {
      const template = '/orgs/{org}/memberships/{username}';
      const login = a.toLowerCase();
      if (method === 'PUT') {
        if (!this.users.has(login)) return validation(template);
        const role = body.role === 'admin' ? 'admin' : 'member';
        let state = 'active';
        if (this.members.has(login)) this.members.set(login, role);
        else {
          state = 'pending';
          const existing = this.invitations.find((i) => i.login === login);
          if (existing) existing.role = role === 'admin' ? 'admin' : 'direct_member';
          else
            this.invitations.push({
              id: this.nextId++,
              login,
              role: role === 'admin' ? 'admin' : 'direct_member',
              teams: [],
            });
        }
        const sample = sampleResponse('PUT', template, 200);
        return send(template, 200, { ...sample, state, role, user: user(login) });
      }
      if (method === 'DELETE') {
        const invitation = this.invitations.findIndex((i) => i.login === login);
        if (!this.members.has(login) && invitation < 0)
          return send(template, 404, {
            message: 'Not Found',
            documentation_url: 'https://docs.github.com/rest',
          });
        this.members.delete(login);
        if (invitation >= 0) this.invitations.splice(invitation, 1);
        for (const team of this.teams.values()) team.delete(login);
        this.copilot.delete(login);
        this.copilotCancelling.delete(login);
        return send(template, 204);
      }
    }
    if (root === 'orgs' && owner === this.org && kind === 'teams' && a) {
      const team = this.teams.get(a);
      if (!team)
        return send('/orgs/{org}/teams/{team_slug}', 404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
        });
      if (b === 'members' && method === 'GET') {
        const role = url.searchParams.get('role') ?? 'all';
        const logins = [...team].filter(([, r]) => role === 'all' || r === role).map(([l]) => l);
        return list('/orgs/{org}/teams/{team_slug}/members', logins.sort().map(user));
      }
      if (b === 'memberships' && c) {
        const template = '/orgs/{org}/teams/{team_slug}/memberships/{username}';
        const login = c.toLowerCase();
        if (method === 'GET') {
          const role = team.get(login);
          const pending = this.invitations.some((i) => i.login === login && i.teams.includes(a));
          if (!role && !pending) return send(template, 404);
          return send(template, 200, {
            url: 'https://example.com/',
            role: role ?? 'member',
            state: role ? 'active' : 'pending',
          });
        }
        if (method === 'PUT') {
          if (!this.users.has(login)) return send(template, 422);
          const role = body.role === 'maintainer' ? 'maintainer' : 'member';
          // Someone outside the organisation is invited to it; they join the team when they accept.
          if (!this.members.has(login)) {
            const invitation = this.invitations.find((i) => i.login === login);
            if (invitation) invitation.teams = [...new Set([...invitation.teams, a])];
            else this.invitations.push({ id: this.nextId++, login, role: 'direct_member', teams: [a] });
            return send(template, 200, { url: 'https://example.com/', role, state: 'pending' });
          }
          team.set(login, role);
          return send(template, 200, { url: 'https://example.com/', role, state: 'active' });
        }
        if (method === 'DELETE') {
          team.delete(login);
          for (const i of this.invitations) if (i.login === login) i.teams = i.teams.filter((t) => t !== a);
          return send(template, 204);
        }
      }
    }
    if (root === 'repos' && owner === this.org && a === 'collaborators') {
      const repo = this.repos.get(kind!);
      if (!repo)
        return send('/repos/{owner}/{repo}/collaborators', 404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
        });
      if (!b && method === 'GET') {
        const template = '/repos/{owner}/{repo}/collaborators';
        const role: Record<string, string> = {
          pull: 'read',
          triage: 'triage',
          push: 'write',
          maintain: 'maintain',
          admin: 'admin',
        };
        return list(
          template,
          [...repo]
            .sort()
            .map(([login, permission]) => ({ ...user(login), role_name: role[permission] ?? permission })),
        );
      }
      const template = '/repos/{owner}/{repo}/collaborators/{username}';
      const login = (b ?? '').toLowerCase();
      if (method === 'PUT') {
        if (!this.users.has(login)) return validation(template);
        const permission = typeof body.permission === 'string' ? body.permission : 'push';
        if (repo.has(login) || this.members.has(login)) {
          repo.set(login, permission);
          return send(template, 204);
        }
        const invites = this.repoInvitations.get(kind!) ?? new Map<string, string>();
        invites.set(login, permission);
        this.repoInvitations.set(kind!, invites);
        const sample = sampleResponse('PUT', template, 201);
        return send(template, 201, sample);
      }
      if (method === 'DELETE') {
        repo.delete(login);
        this.repoInvitations.get(kind!)?.delete(login);
        return send(template, 204);
      }
    }
    if (root === 'orgs' && owner === this.org && kind === 'copilot' && a === 'billing')
      if ((b === 'seats' && method === 'GET') || (b === 'selected_users' && method !== 'GET'))
        return answerCopilot(this, b, method, new URL(req.url ?? '/', this.url), body, send, user);
    res.writeHead(404, headers);
    res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
  }
}
