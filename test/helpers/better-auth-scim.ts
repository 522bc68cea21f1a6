import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scim } from '@better-auth/scim';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';

const MODELS = [
  'user',
  'session',
  'account',
  'verification',
  'scimConnectionBinding',
  'scimGroup',
  'scimGroupMember',
  'scimIdentityTombstone',
  'scimManagedConnection',
  'scimManagedConnectionEvent',
  'scimManagedCredential',
  'scimProjectionGrant',
  'scimSubject',
  'scimUser',
];

/**
 * A second SCIM 2.0 service provider nobody here wrote: better-auth's SCIM
 * plugin (@better-auth/scim 1.7.5) on its memory adapter, on loopback. It
 * differs from SCIMMY where real services do: it refuses filtered paths into
 * a User's roles and entitlements (400 invalidPath) and takes the whole list
 * instead.
 */
export async function startBetterAuthScim(): Promise<{
  url: string;
  token: string;
  requests: string[];
  stop: () => Promise<void>;
}> {
  const token = 'better-auth-scim-token';
  const db: Record<string, unknown[]> = Object.fromEntries(MODELS.map((m) => [m, []]));
  const requests: string[] = [];
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const auth = betterAuth({
    secret: 'a test secret, long enough to pass better-auth checks',
    baseURL: `http://127.0.0.1:${port}`,
    database: memoryAdapter(db),
    logger: { disabled: true },
    plugins: [
      // Its types name another copy of better-auth's core; the plugin itself is the same.
      scim({
        connections: [
          {
            id: 'iden',
            credentials: [
              {
                type: 'bearer',
                id: 'iden-credential',
                token,
                scopes: ['scim.users.read', 'scim.users.write', 'scim.groups.read', 'scim.groups.write'],
              },
            ],
          },
        ],
      }) as never,
    ],
  });
  const handler = toNodeHandler(auth);
  server = createServer((req: IncomingMessage, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/api/auth/scim/v2`,
    token,
    requests,
    stop: () => new Promise((resolve) => server!.close(() => resolve())),
  };
}
