import { connect, createServer, type Server, type Socket } from 'node:net';

// The protocolOp tags of LDAPMessage (RFC 4511 §4.2–4.14): [APPLICATION n], constructed or not.
const OPS: Record<number, string> = {
  96: 'bind',
  97: 'bindResponse',
  66: 'unbind',
  99: 'search',
  100: 'searchEntry',
  101: 'searchDone',
  115: 'searchReference',
  102: 'modify',
  103: 'modifyResponse',
  104: 'add',
  74: 'delete',
  110: 'compare',
  111: 'compareResponse',
  119: 'extended',
  120: 'extendedResponse',
};

/** Splits a BER stream into whole LDAPMessages, naming each by its protocolOp. */
class Framer {
  private buffer = Buffer.alloc(0);
  push(data: Buffer): { op: string; bytes: Buffer }[] {
    this.buffer = Buffer.concat([this.buffer, data]);
    const out: { op: string; bytes: Buffer }[] = [];
    for (;;) {
      if (this.buffer.length < 2) return out;
      let length = this.buffer[1]!;
      let header = 2;
      if (length & 0x80) {
        const n = length & 0x7f;
        if (this.buffer.length < 2 + n) return out;
        length = 0;
        for (let i = 0; i < n; i++) length = length * 256 + this.buffer[2 + i]!;
        header = 2 + n;
      }
      if (this.buffer.length < header + length) return out;
      const bytes = this.buffer.subarray(0, header + length);
      // messageID INTEGER (short form), then the protocolOp's tag.
      const tag = bytes[header + 2 + bytes[header + 1]!]!;
      out.push({ op: OPS[tag] ?? `0x${tag.toString(16)}`, bytes: Buffer.from(bytes) });
      this.buffer = this.buffer.subarray(header + length);
    }
  }
}

export interface LdapProxy {
  url: string;
  /** Every request and response that passed, by operation. */
  counts: Map<string, number>;
  /** Requests of these operations are swallowed: the server never sees them, the client never gets an answer. */
  swallow: Set<string>;
  /**
   * After the `nth` response of `op` from now reaches the client, nothing more passes
   * either way and `then` runs (a test stops the server there), after which
   * the proxy stops listening: the server is gone mid-run.
   */
  cutAfter(op: string, nth: number, then: () => Promise<void>): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** A plain-LDAP loopback proxy in front of a server, reading each message's operation as it passes. */
export async function startProxy(target: { host: string; port: number }, port = 0): Promise<LdapProxy> {
  const counts = new Map<string, number>();
  const swallow = new Set<string>();
  const sockets = new Set<Socket>();
  let cut: { op: string; nth: number; then: () => Promise<void>; done: (e?: unknown) => void } | undefined;
  let frozen = false;
  let server: Server;
  const count = (op: string) => counts.set(op, (counts.get(op) ?? 0) + 1);

  const handle = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const up = new Framer();
    const down = new Framer();
    client.on('data', (data) => {
      for (const { op, bytes } of up.push(data)) {
        if (frozen || swallow.has(op)) continue;
        count(op);
        upstream.write(bytes);
      }
    });
    upstream.on('data', (data) => {
      for (const { op, bytes } of down.push(data)) {
        if (frozen) continue;
        count(op);
        client.write(bytes);
        if (cut && op === cut.op && counts.get(op) === cut.nth) {
          frozen = true;
          const { then, done } = cut;
          cut = undefined;
          then()
            .then(() => proxy.close())
            .then(() => done(), done);
        }
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  };

  const proxy: LdapProxy = {
    url: '',
    counts,
    swallow,
    cutAfter: (op, nth, then) =>
      new Promise((resolve, reject) => {
        cut = { op, nth: (counts.get(op) ?? 0) + nth, then, done: (e) => (e ? reject(e) : resolve()) };
      }),
    listen: () =>
      new Promise((resolve, reject) => {
        frozen = false;
        server = createServer(handle);
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          port = (server.address() as { port: number }).port;
          proxy.url = `ldap://127.0.0.1:${port}`;
          resolve();
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
  await proxy.listen();
  return proxy;
}
