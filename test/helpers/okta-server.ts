import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bucketOf, DOCUMENTED_LIMITS } from '../../src/connectors/okta/pace.js';
import type { Clock } from '../../src/model/clock.js';
import {
  type AppRecord,
  errorBody,
  type GroupRecord,
  type OktaState,
  type RoleRecord,
  type RuleRecord,
  route,
  type UserRecord,
} from './okta-routes.js';
import { OktaSpec, type Operation } from './okta-spec.js';

/** A fault injected by name into the next matching requests. */
export type Fault = '5xx' | '429' | '401' | 'hang' | 'reset';

/** One minute of a bucket, as the server counted it. */
export interface WindowCount {
  bucket: string;
  start: number;
  /** Requests of everyone else this minute (injected with `others`). */
  others: number;
  /** iden's requests this minute. */
  iden: number;
}

/**
 * An Okta org on loopback: users, groups and their members, group rules,
 * apps and their assignments, admin roles; Okta's paging (limit, an opaque
 * after cursor, Link headers), its per-minute rate-limit buckets with the
 * X-Rate-Limit-* headers on every answer and a 429 past the limit, its Error
 * bodies, SSWS tokens and a service app's private-key JWT at
 * /oauth2/v1/token. Every request, and every answer the description covers,
 * is checked against Okta's published description; what does not fit is
 * recorded in `errors` (and answered 500), so a test cannot pass on a
 * request Okta would refuse. Time is the test's clock.
 */
export class OktaServer implements OktaState {
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly rules: RuleRecord[] = [];
  readonly apps = new Map<string, AppRecord>();
  readonly roles = new Map<string, RoleRecord[]>();
  /** `METHOD /path` of every request to the API (not the token endpoint). */
  readonly requests: string[] = [];
  /** The scopes each token request asked for, and the access tokens issued. */
  readonly tokenRequests: string[] = [];
  readonly issued: string[] = [];
  readonly errors: string[] = [];
  /** Every minute of every bucket that saw a request. */
  readonly windows: WindowCount[] = [];
  /** The per-minute limit of each bucket; Okta's published Workforce figures unless a test lowers one. */
  readonly limits: Record<string, number> = { ...DOCUMENTED_LIMITS };
  apiToken = 'okta-test-token';
  /** A service app that may sign in with a private-key JWT. */
  serviceApp: { clientId: string; key: KeyObject; scopes: string[] } | undefined;
  url = '';
  private readonly spec = new OktaSpec();
  private readonly tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  private readonly jtis = new Set<string>();
  private readonly faults: { fault: Fault; count: number; match: RegExp }[] = [];
  /** When each bucket's 429 window ends: iden must send nothing there before. */
  private readonly refusedUntil = new Map<string, number>();
  private readonly hung: ServerResponse[] = [];
  private server: Server | undefined;
  private ids = 0;
  refused = false;

  constructor(readonly clock: Clock) {}

  now(): number {
    return this.clock.now();
  }

  nextId(prefix: string): string {
    this.ids++;
    return `${prefix}${String(this.ids).padStart(10, '0')}test`;
  }

  addUser(login: string, extra: Partial<UserRecord> = {}): UserRecord {
    const u: UserRecord = { id: this.nextId('00u'), login, status: 'ACTIVE', indexed: true, ...extra };
    this.users.set(u.id, u);
    return u;
  }

  addGroup(name: string, extra: Partial<GroupRecord> = {}): GroupRecord {
    const g: GroupRecord = { id: this.nextId('00g'), name, type: 'OKTA_GROUP', members: [], ...extra };
    this.groups.set(g.id, g);
    return g;
  }

  addApp(label: string): AppRecord {
    const a: AppRecord = { id: this.nextId('0oa'), label, users: new Map() };
    this.apps.set(a.id, a);
    return a;
  }

  addRule(name: string, groups: GroupRecord[], exclude: UserRecord[] = []): RuleRecord {
    const r: RuleRecord = {
      id: this.nextId('0pr'),
      name,
      status: 'ACTIVE',
      groupIds: groups.map((g) => g.id),
      exclude: exclude.map((u) => u.id),
    };
    this.rules.push(r);
    return r;
  }

  user(login: string): UserRecord {
    const u = [...this.users.values()].find((x) => x.login.toLowerCase() === login.toLowerCase());
    if (!u) throw new Error(`no test user ${login}`);
    return u;
  }

  /** Logins of a group's members, sorted. */
  members(group: GroupRecord): string[] {
    return group.members.map((id) => this.users.get(id)!.login).sort();
  }

  /** The next `count` requests matching `match` get the fault. */
  inject(fault: Fault, count: number, match = /./): void {
    this.faults.push({ fault, count, match });
  }

  /** Other clients spend `count` of a bucket's current minute. */
  others(bucket: string, count: number): void {
    this.window(bucket).others += count;
  }

  /** The API token stops working, as when it is revoked. */
  refuseToken(): void {
    this.refused = true;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.errors.push(e.message);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errorBody('E0000009', 'Internal Server Error')));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private window(bucket: string): WindowCount {
    const start = Math.floor(this.clock.now() / 60_000) * 60_000;
    let w = this.windows.find((x) => x.bucket === bucket && x.start === start);
    if (!w) {
      w = { bucket, start, others: 0, iden: 0 };
      this.windows.push(w);
    }
    return w;
  }

  private takeFault(line: string): Fault | undefined {
    const f = this.faults.find((x) => x.count > 0 && x.match.test(line));
    if (!f) return undefined;
    f.count--;
    return f.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => resolve(text));
    });
    const date = new Date(this.clock.now()).toUTCString();
    if (url.pathname === '/oauth2/v1/token' && method === 'POST') return this.token(raw, res, date);
    const line = `${method} ${url.pathname}`;
    this.requests.push(line);
    const o = this.spec.route(method, url.pathname);
    if (!o) throw new Error(`${line} is not in Okta's description`);
    this.spec.checkRequest(o, url.searchParams, raw);
    const bucket = bucketOf(method, url.pathname);
    const until = this.refusedUntil.get(bucket);
    if (until !== undefined && this.clock.now() < until)
      this.errors.push(`${line} sent ${until - this.clock.now()} ms before the 429's reset of ${bucket}`);
    const w = this.window(bucket);
    w.iden++;
    const limit = this.limits[bucket] ?? 100;
    const reset = Math.floor((w.start + 60_000) / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      date,
      'x-okta-request-id': `req${this.requests.length}`,
      'x-rate-limit-limit': String(limit),
      'x-rate-limit-remaining': String(Math.max(0, limit - w.iden - w.others)),
      'x-rate-limit-reset': String(reset),
    };
    const fault = this.takeFault(line);
    if (fault === 'hang') {
      this.hung.push(res);
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === '5xx') {
      // An outage is answered by Okta's edge, outside the described responses: an HTML page, or a JSON Error.
      const html = this.requests.length % 2 === 0;
      res.writeHead(html ? 503 : 500, {
        ...headers,
        'content-type': html ? 'text/html' : 'application/json',
      });
      res.end(
        html
          ? '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>'
          : JSON.stringify(errorBody('E0000009', 'Internal Server Error')),
      );
      return;
    }
    if (fault === '429' || w.iden + w.others > limit) {
      this.refusedUntil.set(bucket, reset * 1000);
      return this.send(
        res,
        o,
        429,
        errorBody('E0000047', 'API call exceeded rate limit due to too many requests.'),
        {
          ...headers,
          'x-rate-limit-remaining': '0',
        },
      );
    }
    const denied =
      fault === '401'
        ? { status: 401, body: errorBody('E0000011', 'Invalid token provided') }
        : this.authorize(req, o);
    if (denied) {
      if (denied.status === 401) {
        // Okta answers a bad token 401 on every operation, though the description lists no 401: checked as its Error.
        this.spec.checkComponent('Error', denied.body);
        res.writeHead(401, { ...headers, 'www-authenticate': 'SSWS realm="IAM"' });
        res.end(JSON.stringify(denied.body));
        return;
      }
      return this.send(res, o, denied.status, denied.body, headers);
    }
    const answer = route(this, o, url.searchParams, raw ? (JSON.parse(raw) as Record<string, unknown>) : {});
    if ('list' in answer) {
      const limitParam = Number(url.searchParams.get('limit') ?? answer.fallback);
      const size = Math.min(answer.max, limitParam);
      const offset = Number(Buffer.from(url.searchParams.get('after') ?? '', 'base64url').toString() || 0);
      const page = answer.list.slice(offset, offset + size);
      const self = new URL(url);
      const links = [`<${self.href}>; rel="self"`];
      if (offset + size < answer.list.length) {
        const next = new URL(url);
        next.searchParams.set('after', Buffer.from(String(offset + size)).toString('base64url'));
        links.push(`<${next.href}>; rel="next"`);
      }
      return this.send(res, o, 200, page, headers, links);
    }
    return this.send(res, o, answer.status, answer.body, headers);
  }

  private send(
    res: ServerResponse,
    o: Operation,
    status: number,
    body: unknown,
    headers: Record<string, string>,
    links: string[] = [],
  ): void {
    this.spec.checkResponse(o, status, body);
    res.writeHead(status, links.length > 0 ? { ...headers, link: links } : headers);
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  /** Whether the request's credential may make it: undefined, or the answer Okta gives. */
  private authorize(req: IncomingMessage, o: Operation): { status: number; body: unknown } | undefined {
    const header = String(req.headers.authorization ?? '');
    const invalid = { status: 401, body: errorBody('E0000011', 'Invalid token provided') };
    if (header.startsWith('SSWS '))
      return !this.refused && header === `SSWS ${this.apiToken}` ? undefined : invalid;
    const token = header.startsWith('Bearer ') ? this.tokens.get(header.slice(7)) : undefined;
    if (!token || token.expiresAt <= this.clock.now() || this.refused) return invalid;
    const needs = this.spec.scopes(o);
    if (needs.length > 0 && !needs.some((s) => token.scopes.includes(s)))
      return {
        status: 403,
        body: errorBody('E0000006', 'You do not have permission to perform the requested action', [
          `The access token provided does not contain the required scopes: ${needs.join(' ')}`,
        ]),
      };
    return undefined;
  }

  /**
   * Okta's token endpoint for a service app (RFC 7523 client assertion),
   * outside the Management API's description: the JWT's signature is checked
   * with the service app's public key, its issuer, subject, audience, expiry
   * and jti (used once) as Okta checks them; the scopes must be granted.
   */
  private token(raw: string, res: ServerResponse, date: string): void {
    const form = new URLSearchParams(raw);
    this.tokenRequests.push(form.get('scope') ?? '');
    const answer = this.issue(form);
    res.writeHead(answer.status, { 'content-type': 'application/json', date });
    res.end(JSON.stringify(answer.body));
  }

  private issue(form: URLSearchParams): { status: number; body: Record<string, unknown> } {
    const fail = (status: number, error: string, description: string) => ({
      status,
      body: { error, error_description: description },
    });
    const app = this.serviceApp;
    if (form.get('grant_type') !== 'client_credentials')
      return fail(400, 'unsupported_grant_type', 'client_credentials only');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return fail(401, 'invalid_client', 'client_assertion_type is missing');
    const [head = '', body = '', signature = ''] = (form.get('client_assertion') ?? '').split('.');
    const header = JSON.parse(Buffer.from(head, 'base64url').toString() || '{}') as { alg?: string };
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString() || '{}') as Record<string, unknown>;
    const verified =
      app !== undefined &&
      header.alg === 'RS256' &&
      createVerify('RSA-SHA256')
        .update(`${head}.${body}`)
        .verify(
          app.key.type === 'public' ? app.key : createPublicKey(app.key),
          Buffer.from(signature, 'base64url'),
        );
    if (!app || !verified) return fail(401, 'invalid_client', 'The client_assertion signature is invalid.');
    const now = Math.floor(this.clock.now() / 1000);
    const exp = Number(claims.exp);
    if (claims.iss !== app.clientId || claims.sub !== app.clientId)
      return fail(401, 'invalid_client', 'The client_assertion token has an invalid issuer or subject.');
    if (claims.aud !== `${this.url}/oauth2/v1/token`)
      return fail(401, 'invalid_client', 'The audience claim is invalid.');
    if (!(exp > now) || exp - Number(claims.iat) > 3600)
      return fail(401, 'invalid_client', 'The client_assertion token is expired.');
    if (typeof claims.jti !== 'string' || this.jtis.has(claims.jti))
      return fail(401, 'invalid_client', 'The client_assertion token has already been used.');
    this.jtis.add(claims.jti);
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const missing = scopes.filter((s) => !app.scopes.includes(s));
    if (scopes.length === 0 || missing.length > 0)
      return fail(
        400,
        'invalid_scope',
        `The following scopes were requested, but not granted: ${missing.join(' ')}`,
      );
    const accessToken = `at-${this.nextId('')}`;
    this.tokens.set(accessToken, { scopes, expiresAt: this.clock.now() + 3_600_000 });
    this.issued.push(accessToken);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3600, access_token: accessToken, scope: scopes.join(' ') },
    };
  }
}
