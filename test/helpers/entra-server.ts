import {
  createHash,
  createPublicKey,
  createVerify,
  type KeyObject,
  randomBytes,
  randomUUID,
  X509Certificate,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_NOW } from './cli.js';
import { GraphOperations, odataError, type Reply } from './entra-graph.js';
import { Tenant } from './entra-tenant.js';
import { checkBatchRequest, checkBatchResponse, checkRequest, checkResponse, route } from './graph-spec.js';

/** A fault injected by name: throttled (429) or unavailable (503) answers, each with Retry-After. */
export interface Fault {
  status: 429 | 503;
  /** How many requests get it. */
  times: number;
  /** Requests of the kind let through first. */
  after?: number;
  /** Which requests: reads (GET), writes, or whole $batch calls. Default any single request. */
  on?: 'read' | 'write' | 'batch';
  retryAfter?: number;
}

export const TENANT = 'contoso.onmicrosoft.com';
export const CLIENT_ID = '0b5c1a51-2f4e-4c8e-9d37-6a1f2c3d4e5f';

/**
 * Microsoft Entra ID on loopback: a token endpoint that issues client
 * credentials tokens as Entra does (a secret, or a client assertion signed
 * with a registered certificate; refusals with AADSTS codes), and Microsoft
 * Graph v1.0 over the tenant's state, with JSON batching, paging by
 * nextLink, throttling with Retry-After. Every request and every response,
 * inner batch ones included, is checked against Graph's description; a
 * mismatch is recorded in `errors` and answered 400.
 */
export class EntraServer {
  /** The time the server judges tokens and assertions by: the tests' clock, never the calendar. */
  now: () => number = () => TEST_NOW;
  readonly tenant = new Tenant();
  readonly errors: string[] = [];
  /** Every Graph operation, inner ones of a batch included: `GET /groups/{group-id}`. */
  readonly operations: string[] = [];
  /** HTTP calls to Graph (a batch is one) and to the token endpoint. */
  graphCalls = 0;
  tokenCalls = 0;
  readonly secrets = new Set<string>(['s3cret-Value~1']);
  readonly expiredSecrets = new Set<string>();
  readonly certificates = new Map<string, KeyObject>();
  /** Every form sent to the token endpoint, to check what was sent. */
  readonly tokenForms: URLSearchParams[] = [];
  url = '';
  /** Every access token issued, to check none is ever printed. */
  readonly issued: string[] = [];
  /** After this many Graph calls, the app's secret is removed and its tokens revoked (an admin rotated it mid-run). */
  rotateAfter: number | undefined;
  private readonly faults: Fault[] = [];
  private readonly hangs: { on: 'any' | 'write'; after: number; times: number; drop: boolean }[] = [];
  private readonly hanging: ServerResponse[] = [];
  private readonly tokens = new Map<string, number>();
  private readonly graph = new GraphOperations(this.tenant, () => this.graphUrl);
  private server: Server | undefined;

  get graphUrl(): string {
    return `${this.url}/v1.0`;
  }

  get tokenUrl(): string {
    return `${this.url}/${TENANT}/oauth2/v2.0/token`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.errors.push(e.message);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(odataError(500, 'generalException', e.message).body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Registers a certificate on the app: assertions signed with its key are accepted. */
  addCertificate(pem: string): void {
    const certificate = new X509Certificate(pem);
    this.certificates.set(
      createHash('sha1').update(certificate.raw).digest('base64url'),
      createPublicKey(pem),
    );
  }

  fail(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Injected faults not yet used up (a test checks its faults all happened). */
  get unusedFaults(): number {
    return [...this.faults, ...this.hangs].reduce((n, f) => n + f.times, 0);
  }

  /** No more injected faults. */
  heal(): void {
    this.faults.length = 0;
  }

  /** The next `times` calls to Graph (or those carrying a write), after `after` of them, are never answered. */
  hang(times: number, on: 'any' | 'write' = 'any', after = 0): void {
    this.hangs.push({ on, after, times, drop: false });
  }

  /** Likewise, but the connection is dropped at once, unanswered. */
  drop(times: number, on: 'any' | 'write' = 'any', after = 0): void {
    this.hangs.push({ on, after, times, drop: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => resolve(text));
    });
    const send = (reply: Reply) => {
      res.writeHead(reply.status, {
        ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...reply.headers,
      });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    };
    if (req.method === 'POST' && url.pathname.endsWith('/oauth2/v2.0/token'))
      return send(this.token(url, req, raw));
    if (!url.pathname.startsWith('/v1.0/')) {
      this.errors.push(`${req.method} ${url.pathname}: neither Graph v1.0 nor the token endpoint`);
      return send(odataError(404, 'NotFound', 'not found'));
    }
    this.graphCalls++;
    if (this.rotateAfter !== undefined && this.graphCalls > this.rotateAfter) {
      this.secrets.clear();
      this.tokens.clear();
    }
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!token || !((this.tokens.get(token) ?? 0) > this.now()))
      return send(
        odataError(
          401,
          'InvalidAuthenticationToken',
          token ? 'Lifetime validation failed, the token is expired.' : 'Access token is empty.',
        ),
      );
    const path = url.pathname.slice('/v1.0'.length);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.errors.push(`${req.method} ${path}: a body that is not JSON`);
      return send(odataError(400, 'BadRequest', 'Unable to read JSON request payload.'));
    }
    const writes =
      req.method !== 'GET' &&
      (path !== '/$batch' ||
        JSON.stringify(body).includes('"method":"POST"') ||
        JSON.stringify(body).includes('"method":"DELETE"'));
    const hang = this.hangs.find((h) => h.times > 0 && (h.on === 'any' || writes));
    if (hang && hang.after-- <= 0) {
      hang.times--;
      if (hang.drop) res.socket?.destroy();
      else this.hanging.push(res);
      return;
    }
    if (req.method === 'POST' && path === '/$batch') return send(this.batch(body));
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    send(this.operation(req.method ?? 'GET', path, url.searchParams, headers, body));
  }

  private batch(body: unknown): Reply {
    let requests: ReturnType<typeof checkBatchRequest>;
    try {
      requests = checkBatchRequest(body);
    } catch (e) {
      this.errors.push((e as Error).message);
      return odataError(400, 'BadRequest', (e as Error).message);
    }
    const whole = this.fault('batch');
    if (whole) return whole;
    const responses = requests.map((r) => {
      const url = new URL(r.url.startsWith('/') ? r.url : `/${r.url}`, 'http://x');
      const headers = Object.fromEntries(
        Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const reply = this.operation(r.method, url.pathname, url.searchParams, headers, r.body);
      return {
        id: r.id,
        status: reply.status,
        headers: {
          ...(reply.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...reply.headers,
        },
        ...(reply.body === undefined ? {} : { body: reply.body }),
      };
    });
    const reply = { status: 200, body: { responses } };
    try {
      checkBatchResponse(reply.body);
    } catch (e) {
      this.errors.push((e as Error).message);
    }
    return reply;
  }

  /** One Graph operation, checked against the description both ways. */
  private operation(
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string | undefined>,
    body: unknown,
  ): Reply {
    const matched = route(method, path);
    if (!matched) {
      this.errors.push(`${method} ${path}: not an operation of the description`);
      return odataError(400, 'BadRequest', `Resource not found for the segment '${path.split('/')[1]}'.`);
    }
    this.operations.push(`${method} ${matched.template}`);
    let reply: Reply;
    try {
      checkRequest(method, matched, query, headers, body);
      reply =
        this.fault(method === 'GET' ? 'read' : 'write') ??
        this.graph.answer(method, matched.template, matched.params, path, query, body);
    } catch (e) {
      // A request off the description, or one the connector has no business sending (Misuse): the test fails.
      this.errors.push((e as Error).message);
      return odataError(400, 'BadRequest', (e as Error).message);
    }
    try {
      checkResponse(method, matched.template, reply.status, reply.body);
    } catch (e) {
      this.errors.push((e as Error).message);
    }
    return reply;
  }

  private fault(kind: 'read' | 'write' | 'batch'): Reply | undefined {
    const fault = this.faults.find(
      (f) => f.times > 0 && (f.on === kind || (f.on === undefined && kind !== 'batch')),
    );
    if (!fault) return undefined;
    if ((fault.after ?? 0) > 0) {
      fault.after = fault.after! - 1;
      return undefined;
    }
    fault.times--;
    const headers = { 'Retry-After': String(fault.retryAfter ?? 1) };
    return fault.status === 429
      ? odataError(
          429,
          'activityLimitReached',
          'The request has been throttled. Please try again later.',
          headers,
        )
      : odataError(
          503,
          'serviceNotAvailable',
          'The service is temporarily unavailable. Please try again later.',
          headers,
        );
  }

  /** The token endpoint: client credentials, by secret or by a client assertion signed with a registered certificate. */
  private token(url: URL, req: IncomingMessage, raw: string): Reply {
    this.tokenCalls++;
    const form = new URLSearchParams(raw);
    this.tokenForms.push(form);
    const refuse = (status: number, error: string, code: number, text: string): Reply => ({
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: 2026-11-27 12:00:00Z`,
        error_codes: [code],
        timestamp: '2026-11-27 12:00:00Z',
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
        error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      },
    });
    if (!/^application\/x-www-form-urlencoded/.test(String(req.headers['content-type'])))
      this.errors.push('the token request is not form-encoded');
    const tenant = url.pathname.split('/')[1];
    if (tenant !== TENANT) return refuse(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials')
      return refuse(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id');
    if (clientId !== CLIENT_ID)
      return refuse(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${TENANT}'.`,
      );
    if (form.get('scope') !== `${this.url}/.default`)
      return refuse(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.get('scope')} is not valid.`,
      );
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (this.expiredSecrets.has(secret))
        return refuse(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${CLIENT_ID}' are expired.`,
        );
      if (!this.secrets.has(secret))
        return refuse(
          401,
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
        );
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        this.errors.push('a client assertion without its client_assertion_type');
      const why = this.verifyAssertion(assertion);
      if (why) return refuse(401, 'invalid_client', why.code, why.text);
    } else
      return refuse(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, this.now() + 3_599_000);
    this.issued.push(token);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
    };
  }

  private verifyAssertion(jwt: string): { code: number; text: string } | undefined {
    const [head = '', claims = '', signature = ''] = jwt.split('.');
    const read = (part: string) => {
      try {
        return JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    const header = read(head);
    const payload = read(claims);
    if (!header || !payload) return { code: 50027, text: 'JWT token is invalid or malformed.' };
    const key = this.certificates.get(String(header.x5t));
    if (header.alg !== 'RS256' || !key)
      return {
        code: 700027,
        text: `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(header.x5t)}']`,
      };
    if (
      !createVerify('RSA-SHA256').update(`${head}.${claims}`).verify(key, Buffer.from(signature, 'base64url'))
    )
      return { code: 700027, text: 'Client assertion failed signature validation.' };
    // What only a faulty client gets wrong: recorded, so the test fails.
    for (const [claim, want] of [
      ['aud', this.tokenUrl],
      ['iss', CLIENT_ID],
      ['sub', CLIENT_ID],
    ] as const)
      if (payload[claim] !== want)
        this.errors.push(`client assertion ${claim} is ${String(payload[claim])}, not ${want}`);
    if (typeof payload.jti !== 'string') this.errors.push('client assertion without jti');
    const now = this.now() / 1000;
    if (!(Number(payload.exp) > now && Number(payload.nbf) <= now + 300))
      return { code: 700024, text: 'Client assertion is not within its valid time range.' };
    return undefined;
  }
}
