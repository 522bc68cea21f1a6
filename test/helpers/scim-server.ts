import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
// The SCIMMY instance scimmy-routers itself uses, so its configuration is the one the routes serve.
import SCIMMYRouters, { SCIMMY } from 'scimmy-routers';

type Stored = Record<string, unknown> & { id: string };

/** What the SCIM service provider holds, and every request it saw. */
export interface ScimStore {
  users: Map<string, Stored>;
  groups: Map<string, Stored>;
  requests: string[];
  /** When set, the next requests are answered 429 with Retry-After: 1. */
  busy: number;
}

const store: ScimStore = { users: new Map(), groups: new Map(), requests: [], busy: 0 };
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
  store.busy = 0;
  const app = express();
  app.use((req, res, next) => {
    store.requests.push(`${req.method} ${req.path}`);
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
