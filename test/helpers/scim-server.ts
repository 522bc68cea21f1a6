import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
// The SCIMMY instance scimmy-routers itself uses, so its configuration is the one the routes serve.
import SCIMMYRouters, { SCIMMY } from 'scimmy-routers';

type Stored = Record<string, unknown> & { id: string };

/**
 * Behaviours of real services this one can take on, each as another
 * implementation was seen to behave (named where it is set in a test).
 */
export interface Quirks {
  /** Lists pages of at most this many, honouring startIndex and count (SCIMMY itself returns everything). */
  pageSize?: number;
  /** totalResults is the page's size, not the list's (a scim2-models server did this). */
  totalIsPageSize?: boolean;
  /** Lists nothing past this many resources, while totalResults still counts them all (a lossy index). */
  listOnly?: number;
  /** A filter with an escaped quote makes the filter parser fail with 500 (scim2-filter-parser did this). */
  filterQuotesFail?: boolean;
  /** The next N requests meet an outage page: 503 with an HTML body, as a load balancer serves it. */
  htmlOutage?: number;
  /** Resources carry versions (ETag); a PUT or PATCH whose If-Match is not the current version is refused 412. */
  etags?: boolean;
}

/** What the SCIM service provider holds, and every request it saw. */
export interface ScimStore {
  users: Map<string, Stored>;
  groups: Map<string, Stored>;
  requests: string[];
  /** The JSON body of every PATCH, PUT and POST, in order. */
  bodies: { method: string; path: string; body: unknown; ifMatch: string | undefined }[];
  /** When set, the next requests are answered 429 with Retry-After: 1. */
  busy: number;
  quirks: Quirks;
  /** Resource versions, when quirks.etags. */
  versions: Map<string, number>;
}

const store: ScimStore = {
  users: new Map(),
  groups: new Map(),
  requests: [],
  bodies: [],
  busy: 0,
  quirks: {},
  versions: new Map(),
};
let declared = false;

/**
 * A SCIM 2.0 service provider nobody here wrote: SCIMMY parses the filters,
 * applies PATCH operations and pages lists, and scimmy-routers speaks the
 * protocol over express. The handlers only keep resources in memory, so the
 * connector's requests are judged by an independent RFC 7643/7644
 * implementation, not by a mock written to agree with it.
 */
function declare(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Config.set({
    patch: true,
    filter: true,
    bulk: false,
    sort: false,
    etag: false,
    changePassword: false,
  });
  const handlers = (map: () => Map<string, Stored>, unique: string) => ({
    egress: (resource: { id?: string; filter?: { match: (values: object[]) => object[] } }) => {
      if (resource.id) {
        const found = map().get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
        return found;
      }
      const all = [...map().values()];
      // A resource marked hidden is missing from plain listings, as from an eventually consistent index.
      return resource.filter ? resource.filter.match(all) : all.filter((r) => !r.hidden);
    },
    ingress: (resource: { id?: string }, data: Record<string, unknown>) => {
      const key = String(data[unique]).toLowerCase();
      const clash = [...map().values()].find(
        (r) => String(r[unique]).toLowerCase() === key && r.id !== resource.id,
      );
      if (clash)
        throw new SCIMMY.Types.Error(409, 'uniqueness', `${unique} ${String(data[unique])} is already taken`);
      const id = resource.id ?? randomUUID();
      const now = new Date().toISOString();
      const stored = { ...data, id, meta: { created: now, lastModified: now } } as Stored;
      map().set(id, stored);
      return stored;
    },
    degress: (resource: { id: string }) => {
      map().delete(resource.id);
    },
  });
  SCIMMY.Resources.declare(
    SCIMMY.Resources.User,
    handlers(() => store.users, 'userName'),
  );
  SCIMMY.Resources.declare(
    SCIMMY.Resources.Group,
    handlers(() => store.groups, 'displayName'),
  );
}

export async function startScimServer(): Promise<{
  url: string;
  store: ScimStore;
  stop: () => Promise<void>;
}> {
  declare();
  store.users.clear();
  store.groups.clear();
  store.requests.length = 0;
  store.bodies.length = 0;
  store.busy = 0;
  store.quirks = {};
  store.versions.clear();
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/scim+json'] }));
  app.use((req, res, next) => {
    store.requests.push(`${req.method} ${req.path}`);
    if (req.method !== 'GET')
      store.bodies.push({
        method: req.method,
        path: req.path,
        body: req.body,
        ifMatch: req.header('if-match'),
      });
    const quirks = store.quirks;
    if ((quirks.htmlOutage ?? 0) > 0) {
      quirks.htmlOutage!--;
      res
        .status(503)
        .type('text/html')
        .send('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      return;
    }
    if (quirks.filterQuotesFail && typeof req.query.filter === 'string' && req.query.filter.includes('\\"')) {
      res.status(500).json({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '500',
        detail: 'filter parser error',
      });
      return;
    }
    const single = /^\/scim\/v2\/(Users|Groups)\/([^/]+)$/.exec(req.path);
    if (quirks.etags && single) {
      const id = single[2]!;
      const version = `W/"${store.versions.get(id) ?? 1}"`;
      if ((req.method === 'PUT' || req.method === 'PATCH') && req.header('if-match') !== version) {
        res.status(412).json({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '412',
          detail: `the resource is at ${version}`,
        });
        return;
      }
      if (req.method === 'PUT' || req.method === 'PATCH')
        store.versions.set(id, (store.versions.get(id) ?? 1) + 1);
      res.setHeader('ETag', req.method === 'GET' ? version : `W/"${store.versions.get(id)}"`);
    }
    // scimmy-routers casts startIndex and count to numbers by changing req.query, which Express 5 parses
    // afresh on every read: without a fixed query object SCIMMY pages by its defaults, 20 from the first.
    const query: Record<string, unknown> = { ...req.query };
    for (const key of ['startIndex', 'count'])
      if (typeof query[key] === 'string') query[key] = Number(query[key]);
    const list =
      req.method === 'GET' && /^\/scim\/v2\/(Users|Groups)$/.test(req.path) && query.filter === undefined;
    const requested = { startIndex: query.startIndex, count: query.count };
    // With a page size of its own, the service lists everything from SCIMMY and pages it here.
    if (list && quirks.pageSize) Object.assign(query, { startIndex: 1, count: 1_000_000 });
    Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true });
    if (list && quirks.pageSize) {
      // Pages as a service does: startIndex (1-based) and count, at most pageSize a page.
      const send = res.send.bind(res);
      let done = false;
      res.send = ((body: unknown) => {
        if (done || res.statusCode !== 200) return send(body as never);
        done = true;
        const data = (
          Buffer.isBuffer(body)
            ? JSON.parse(body.toString())
            : typeof body === 'string'
              ? JSON.parse(body)
              : body
        ) as { Resources?: unknown[] };
        const all = data.Resources ?? [];
        const start = Math.max(1, Number(requested.startIndex ?? 1));
        const count = Math.min(Number(requested.count ?? quirks.pageSize), quirks.pageSize!);
        const page = all.slice(
          start - 1,
          Math.min(start - 1 + count, quirks.listOnly ?? Number.POSITIVE_INFINITY),
        );
        return send(
          JSON.stringify({
            ...data,
            Resources: page,
            startIndex: start,
            itemsPerPage: page.length,
            totalResults: quirks.totalIsPageSize ? page.length : all.length,
          }),
        );
      }) as typeof res.send;
    }
    if (store.busy > 0) {
      store.busy--;
      res
        .status(429)
        .set('retry-after', '1')
        .json({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '429',
          detail: 'Too many requests',
        });
      return;
    }
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://example.com/auth',
      handler: (request: { header: (name: string) => string | undefined }) => {
        if (request.header('authorization') !== 'Bearer scim-token') throw new Error('Authorization failed');
        return 'iden';
      },
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  // scimmy-routers turns every capability on when it is built; bulk is something a test asks for.
  setBulkSupported(false);
  return { url, store, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Adds a group as the app's admin would, before iden manages its members. */
export function addGroup(displayName: string): string {
  const id = randomUUID();
  store.groups.set(id, {
    id,
    displayName,
    members: [],
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
  });
  return id;
}

/** Whether the service provider supports PATCH, as its ServiceProviderConfig says (SCIMMY's configuration is process-wide). */
export function setPatchSupported(supported: boolean): void {
  SCIMMY.Config.set({ patch: supported });
}

/** Whether the service provider supports /Bulk. */
export function setBulkSupported(supported: boolean): void {
  SCIMMY.Config.set({ bulk: { supported, maxOperations: 1000, maxPayloadSize: 16 * 1024 * 1024 } });
}

/** Whether the service says its resources carry versions (ETag); quirks.etags makes it so. */
export function setEtagSupported(supported: boolean): void {
  SCIMMY.Config.set({ etag: supported });
}
