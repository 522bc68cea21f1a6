import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';

export function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** An HTTP server on HOST:PORT (port 0: any free port). */
export async function listen(
  where: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const colon = where.lastIndexOf(':');
  const host = where.slice(0, colon) || '127.0.0.1';
  const port = Number(where.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--listen ${where}: give HOST:PORT, such as 127.0.0.1:8080 (port 0: any free port)`);
  const server = createServer(handler);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  return server;
}

/** Where a server listens, as HOST:PORT. */
export function address(server: Server): string {
  const a = server.address();
  return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
}
