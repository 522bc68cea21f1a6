import { createVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Discovery } from './google-discovery.js';
import { googleError, type Reply, Workspace } from './google-workspace.js';

export interface Faults {
  /** Once `after` API requests have been served (each one in a batch counts), the next `count` are refused as over quota. */
  rateLimit?: {
    after: number;
    count: number;
    status: 403 | 429;
    reason: 'userRateLimitExceeded' | 'rateLimitExceeded' | 'quotaExceeded';
  };
  /** The next n API requests answer 503 backendError. */
  unavailable?: number;
  /** The token endpoint refuses every assertion (invalid_grant), as for a deleted key. */
  refuseTokens?: boolean;
  /** The next n HTTP requests to the APIs are never answered. */
  hang?: number;
  /** Once this many API requests have been served, every token is revoked and new ones refused (the key was deleted mid-run). */
  revokeAfter?: number;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

const apis = {
  directory: new Discovery('admin.directory_v1.json'),
  licensing: new Discovery('licensing.v1.json'),
};

/**
 * Google on loopback: an OAuth token endpoint that takes a service
 * account's signed JWT (verified with its public key) as Google does, and
 * the Directory and License Manager APIs, each on its own port as on its own
 * host, single and batch (multipart/mixed at the documents' batchPath).
 * Every request, each one inside a batch too, and every answer is checked
 * against the Discovery documents (and Google's error envelope); what does
 * not match is recorded in `errors` and answered 400 or 500. Faults by name.
 */
export class GoogleServer {
  readonly workspace = new Workspace();
  readonly errors: string[] = [];
  /** Every API request, each one in a batch too: `METHOD /path`. */
  readonly requests: string[] = [];
  /** Every HTTP request: `api METHOD /path` (a batch is one). */
  readonly http: string[] = [];
  readonly faults: Faults = {};
  /** The service account whose signature the token endpoint accepts. */
  serviceAccount: { email: string; publicKey: KeyObject } | undefined;
  /** The admins the service account may act as. */
  readonly admins = new Set<string>(['iden-admin@acme.com']);
  /** The scopes domain-wide delegation grants the service account. */
  readonly delegated = new Set<string>([
    'https://www.googleapis.com/auth/admin.directory.group.member',
    'https://www.googleapis.com/auth/apps.licensing',
  ]);
  readonly urls = { directory: '', licensing: '', token: '' };
  private readonly tokens = new Map<string, Set<string>>();
  private readonly servers: Server[] = [];
  private served = 0;

  async start(): Promise<void> {
    const listen = async (handler: (req: IncomingMessage, raw: string, res: ServerResponse) => void) => {
      const server = createServer((req, res) => {
        let raw = '';
        req.on('data', (c) => {
          raw += c;
        });
        req.on('end', () => {
          try {
            handler(req, raw, res);
          } catch (e) {
            this.errors.push(`server: ${(e as Error).message}`);
            res.writeHead(500).end();
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    this.urls.directory = `${await listen((req, raw, res) => this.api('directory', req, raw, res))}/`;
    this.urls.licensing = `${await listen((req, raw, res) => this.api('licensing', req, raw, res))}/`;
    this.urls.token = `${await listen((req, raw, res) => this.token(req, raw, res))}/token`;
  }

  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** API requests made for a method and path prefix, e.g. `POST /admin/directory/v1/groups`. */
  count(prefix: string): number {
    return this.requests.filter((r) => r.startsWith(prefix)).length;
  }

  private token(req: IncomingMessage, raw: string, res: ServerResponse): void {
    this.http.push(`token ${req.method} ${req.url}`);
    const { status, body } = this.exchange(req.method ?? '', raw);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  /** The token endpoint's answer to an assertion: a token for its scopes, or Google's OAuth error. */
  private exchange(method: string, raw: string): { status: number; body: Record<string, unknown> } {
    const form = new URLSearchParams(raw);
    const refuse = (error: string, description: string) => ({
      status: 400,
      body: { error, error_description: description },
    });
    if (method !== 'POST' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return refuse('unsupported_grant_type', 'Invalid grant_type');
    const [header = '', payload = '', signature = ''] = (form.get('assertion') ?? '').split('.');
    const claims = (() => {
      try {
        return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    })();
    const alg = (() => {
      try {
        return (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg;
      } catch {
        return undefined;
      }
    })();
    if (!claims || alg !== 'RS256') return refuse('invalid_grant', 'Invalid JWT: unreadable or not RS256');
    const account = this.serviceAccount;
    if (this.faults.refuseTokens || !account || claims.iss !== account.email)
      return refuse('invalid_grant', 'Invalid JWT: No valid verifier found for issuer.');
    const valid = createVerify('RSA-SHA256')
      .update(`${header}.${payload}`)
      .verify(account.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return refuse('invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== this.urls.token) return refuse('invalid_grant', 'Invalid JWT: Failed audience check.');
    const lifetime = Number(claims.exp) - Number(claims.iat);
    if (!(lifetime > 0 && lifetime <= 3600))
      return refuse('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes).');
    if (!this.admins.has(String(claims.sub))) return refuse('invalid_grant', 'Invalid email or User ID');
    const scopes = String(claims.scope ?? '')
      .split(' ')
      .filter(Boolean);
    if (scopes.length === 0 || scopes.some((s) => !this.delegated.has(s)))
      return refuse(
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    const token = `ya29.test-${this.tokens.size + 1}`;
    this.tokens.set(token, new Set(scopes));
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  }

  private api(name: keyof typeof apis, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.http.push(`${name} ${req.method} ${url.pathname}`);
    if (this.faults.hang) {
      this.faults.hang--;
      return;
    }
    const auth = String(req.headers.authorization ?? '');
    if (req.method === 'POST' && url.pathname === apis[name].batchPath) {
      const answer = this.batch(name, String(req.headers['content-type'] ?? ''), raw, auth);
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.text);
      return;
    }
    const reply = this.call(name, req.method ?? 'GET', url, auth, raw);
    res.writeHead(reply.status, {
      ...(reply.body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' }),
      ...reply.headers,
    });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  /** One API call, alone or from a batch: checked, authorised, perhaps refused by a fault, answered, the answer checked. */
  private call(name: keyof typeof apis, httpMethod: string, url: URL, auth: string, raw: string): Reply {
    const api = apis[name];
    this.requests.push(`${httpMethod} ${url.pathname}`);
    const found = api.match(httpMethod, url.pathname);
    if (!found) {
      this.errors.push(`${name}: no method ${httpMethod} ${url.pathname}`);
      return googleError(404, 'notFound', 'Not Found');
    }
    try {
      api.checkRequest(found.method, found.params, url.searchParams, raw);
    } catch (e) {
      this.errors.push((e as Error).message);
      return googleError(400, 'badRequest', (e as Error).message, 'INVALID_ARGUMENT');
    }
    const reply = this.answer(found.method, found.params, url.searchParams, raw, auth);
    try {
      api.checkResponse(found.method, reply.status, reply.body);
    } catch (e) {
      this.errors.push((e as Error).message);
    }
    return reply;
  }

  private answer(
    method: { id: string; scopes?: string[] },
    params: Record<string, string>,
    query: URLSearchParams,
    raw: string,
    auth: string,
  ): Reply {
    if (this.faults.revokeAfter !== undefined && this.served >= this.faults.revokeAfter) {
      this.tokens.clear();
      this.faults.refuseTokens = true;
      delete this.faults.revokeAfter;
    }
    const scopes = this.tokens.get(auth.replace(/^Bearer /i, ''));
    if (!scopes)
      return googleError(
        401,
        'authError',
        'Request had invalid authentication credentials.',
        'UNAUTHENTICATED',
      );
    if (!(method.scopes ?? []).some((s) => scopes.has(s)))
      return googleError(
        403,
        'insufficientPermissions',
        'Request had insufficient authentication scopes.',
        'PERMISSION_DENIED',
      );
    this.served++;
    if (this.faults.unavailable) {
      this.faults.unavailable--;
      return { ...googleError(503, 'backendError', 'The service is currently unavailable.', 'UNAVAILABLE') };
    }
    const limit = this.faults.rateLimit;
    if (limit && this.served > limit.after && limit.count > 0) {
      limit.count--;
      const reply = googleError(
        limit.status,
        limit.reason,
        `Quota exceeded: ${limit.reason}`,
        'RESOURCE_EXHAUSTED',
      );
      return limit.status === 429 ? { ...reply, headers: { 'retry-after': '1' } } : reply;
    }
    return this.workspace.handle(
      method.id,
      params,
      query,
      (raw ? JSON.parse(raw) : {}) as Record<string, unknown>,
    );
  }

  /** A batch: at most 1,000 parts, each an `application/http` request to this API; answered part by part. */
  private batch(
    name: keyof typeof apis,
    contentType: string,
    raw: string,
    auth: string,
  ): { status: number; type: string; text: string } {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/.exec(contentType);
    const fail = (why: string) => {
      this.errors.push(`${name} batch: ${why}`);
      const reply = googleError(400, 'badRequest', why);
      return { status: 400, type: 'application/json; charset=UTF-8', text: JSON.stringify(reply.body) };
    };
    if (!/^multipart\/mixed/i.test(contentType) || !boundary)
      return fail('not multipart/mixed with a boundary');
    const delimiter = `--${boundary[1] ?? boundary[2]}`;
    const chunks = raw.split(delimiter).slice(1);
    if (!chunks.at(-1)?.startsWith('--')) return fail('no closing delimiter');
    const parts = chunks.slice(0, -1);
    if (parts.length > 1000) return fail(`${parts.length} requests, more than 1,000`);
    const answers: string[] = [];
    for (const chunk of parts) {
      const [outer = '', ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n');
      const headers = outer.toLowerCase();
      if (!headers.includes('content-type: application/http')) return fail('a part is not application/http');
      const id = /content-id:\s*<([^>]+)>/i.exec(outer)?.[1];
      const inner = rest.join('\r\n\r\n');
      const [head = '', ...body] = inner.split('\r\n\r\n');
      const [line = '', ...innerHeaders] = head.split('\r\n');
      const request = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*) HTTP\/1\.1$/.exec(line);
      if (!request) return fail(`a part's request line is ${JSON.stringify(line)}`);
      const own = innerHeaders.find((h) => /^authorization:/i.test(h));
      const reply = this.call(
        name,
        request[1]!,
        new URL(request[2]!, 'http://x'),
        own ? own.slice(own.indexOf(':') + 1).trim() : auth,
        body.join('\r\n\r\n').replace(/\r\n$/, ''),
      );
      const json = reply.body === undefined ? '' : JSON.stringify(reply.body);
      answers.push(
        [
          delimiter,
          'Content-Type: application/http',
          ...(id ? [`Content-ID: <response-${id}>`] : []),
          '',
          `HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`,
          ...(json ? ['Content-Type: application/json; charset=UTF-8'] : []),
          ...Object.entries(reply.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
          '',
          json,
        ].join('\r\n'),
      );
    }
    return {
      status: 200,
      type: `multipart/mixed; boundary=${delimiter.slice(2)}`,
      text: `${answers.join('\r\n')}\r\n${delimiter}--\r\n`,
    };
  }
}
