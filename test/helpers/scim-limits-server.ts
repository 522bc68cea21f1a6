import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LimitsStore, Refusal, type Resource } from './scim-limits-store.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** What goes wrong with the service, as it went wrong with large identity services. */
export interface Faults {
  /** The next N requests are refused 429, with Retry-After as an HTTP date `retryAfterS` from the service's clock. */
  throttle: number;
  retryAfterS: number;
  /** The next requests are answered with these statuses in turn (a 5xx burst); a 500 says when to come back. */
  burst: number[];
  /** The next N requests lose their connection before any answer (a reset, as a proxy restarting does). */
  drop: number;
  /** Requests (`METHOD /path`) this says yes to are never answered: the connection stays open, silent. */
  hang: (request: string, body: string) => boolean;
}

export interface LimitsServer {
  url: string;
  token: string;
  store: LimitsStore;
  faults: Faults;
  /** Every request, `METHOD /path?query` (the path under the SCIM root). */
  requests: string[];
  /** How many requests are hanging now. */
  hanging: () => number;
  /** Sets a User inactive, as an admin does in the service's console. */
  deactivate(userName: string): void;
  addGroup(displayName: string): string;
  /** A User made in the service by hand or by another system: no mark of iden's unless given. */
  addUser(user: Record<string, unknown>): Resource;
  stop(): Promise<void>;
}

/**
 * A SCIM 2.0 service on loopback with the limits of the large identity
 * services (Okta, Entra ID): a page is at most `pageSize` whatever `count`
 * asks, filters are the few they take, PATCH is applied as RFC 7644 words
 * it (scim-patch), 429s carry Retry-After as an HTTP date, and its faults
 * include bursts of 5xx, requests never answered and hand-deactivation.
 */
export async function startLimitsServer(options: {
  now: () => number;
  pageSize?: number;
}): Promise<LimitsServer> {
  const token = 'limits-token';
  const pageSize = options.pageSize ?? 20;
  const store = new LimitsStore(options.now);
  const faults: Faults = { throttle: 0, retryAfterS: 3, burst: [], drop: 0, hang: () => false };
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/scim+json', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, status: number, scimType: string | undefined, detail: string) =>
    send(res, status, {
      schemas: [ERROR],
      status: String(status),
      ...(scimType ? { scimType } : {}),
      detail,
    });
  const httpDate = (ms: number) => new Date(ms).toUTCString();

  const route = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/scim\/v2/, '');
    const request = `${req.method} ${path}`;
    requests.push(`${request}${url.search ? decodeURIComponent(url.search) : ''}`);
    if (req.headers.authorization !== `Bearer ${token}`) return refuse(res, 401, undefined, 'Unauthorized');
    if (faults.drop > 0) {
      faults.drop--;
      req.socket.destroy();
      return;
    }
    if (faults.hang(request, text)) {
      held.add(res);
      return;
    }
    const status = faults.burst.shift();
    if (status !== undefined)
      return send(
        res,
        status,
        { schemas: [ERROR], status: String(status), detail: `the service is unavailable (${status})` },
        status === 500 ? { 'retry-after': httpDate(options.now() + 1000) } : {},
      );
    if (faults.throttle > 0) {
      faults.throttle--;
      return send(
        res,
        429,
        { schemas: [ERROR], status: '429', detail: 'Rate limit exceeded' },
        { 'retry-after': httpDate(options.now() + faults.retryAfterS * 1000) },
      );
    }
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (path === '/ServiceProviderConfig')
      return send(res, 200, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: pageSize },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
      });
    const match = /^\/(Users|Groups)(?:\/([^/]+))?$/.exec(path);
    if (!match) return refuse(res, 404, undefined, `no resource at ${path}`);
    const kind = match[1] as 'Users' | 'Groups';
    const id = match[2];
    if (req.method === 'GET' && !id) {
      const all = store.list(kind, url.searchParams.get('filter') ?? undefined);
      const start = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1));
      const count = Math.min(Number(url.searchParams.get('count') ?? pageSize), pageSize);
      const page = all.slice(start - 1, start - 1 + count).map((r) => store.show(kind, r));
      return send(res, 200, {
        schemas: [LIST],
        totalResults: all.length,
        startIndex: start,
        itemsPerPage: page.length,
        Resources: page,
      });
    }
    if (req.method === 'GET') return send(res, 200, store.show(kind, store.get(kind, id!)));
    if (req.method === 'POST' && !id) return send(res, 201, store.show(kind, store.create(kind, body)));
    if (req.method === 'PATCH' && id) return send(res, 200, store.show(kind, store.patch(kind, id, body)));
    return refuse(res, 405, undefined, `${req.method} is not supported on ${path}`);
  };

  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      route(req, res, text).catch((e: unknown) => {
        if (e instanceof Refusal) refuse(res, e.status, e.scimType, e.message);
        else refuse(res, 500, undefined, (e as Error).message);
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const byName = (userName: string) =>
    [...store.users.values()].find((u) => String(u.userName).toLowerCase() === userName.toLowerCase());
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    token,
    store,
    faults,
    requests,
    hanging: () => [...held].filter((r) => !r.destroyed && !r.writableEnded).length,
    deactivate(userName) {
      const user = byName(userName);
      if (!user) throw new Error(`no User ${userName}`);
      user.active = false;
    },
    addGroup: (displayName) => store.create('Groups', { displayName }).id,
    addUser: (user) => store.create('Users', user),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
