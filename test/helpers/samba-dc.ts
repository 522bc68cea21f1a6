import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { ADMINISTRATOR, sh, template } from './samba-template.js';
import { makeCertificates } from './tls.js';

export { ADMINISTRATOR, BULK, DOMAIN, SVC } from './samba-template.js';

export interface SambaDc {
  address: string;
  /** ldap://<address>: simple binds over it are refused (Samba's default), as on a real domain controller. */
  url: string;
  ldapsUrl: string;
  ca: string;
  add(entries: [string, Record<string, string | string[]>][]): Promise<void>;
  values(dn: string, attribute: string): Promise<string[]>;
  modify(
    dn: string,
    operation: 'add' | 'delete' | 'replace',
    attribute: string,
    values: string[],
  ): Promise<void>;
  /** Stops samba and removes its folder; the address is free again. */
  remove(): Promise<void>;
}

const bin = (name: string) => ['/usr/sbin', '/usr/bin'].map((d) => join(d, name)).find((p) => existsSync(p));

/** Whether nothing listens on the address's LDAP port (or on every address): root may listen there itself. */
function portFree(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(389, address, () => probe.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A loopback address of its own (127.0.0.2–254): Active Directory's ports
 * cannot move, so two test runs at once each take an address, held by a lock
 * file naming this process (taken over when that process is gone).
 */
async function reserveAddress(cache: string): Promise<{ address: string; release: () => void }> {
  const start = 2 + (process.pid % 253);
  for (let i = 0; i < 253; i++) {
    const address = `127.0.0.${2 + ((start - 2 + i) % 253)}`;
    const lock = join(cache, `iden-samba-${address}.lock`);
    if (existsSync(lock)) {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (alive(owner)) continue;
      rmSync(lock, { force: true });
    }
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      continue;
    }
    if (await portFree(address)) return { address, release: () => rmSync(lock, { force: true }) };
    unlinkSync(lock);
  }
  throw new Error('no loopback address 127.0.0.2–254 has port 389 free');
}

async function admin(url: string, ca: string): Promise<Client> {
  const client = new Client({
    url,
    timeout: 20_000,
    connectTimeout: 10_000,
    tlsOptions: { ca: readFileSync(ca) },
  });
  await client.bind(ADMINISTRATOR.dn, ADMINISTRATOR.password);
  return client;
}

/** Waits until samba answers over ldaps: each refused connection is tried again a little later, 150 times at most. */
async function answering(url: string, ca: string, exited: () => string | undefined): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await admin(url, ca);
      await client.unbind();
      return;
    } catch (e) {
      const why = exited();
      if (why !== undefined) throw new Error(`samba exited: ${why}`);
      if (attempt >= 150) throw new Error(`samba did not answer at ${url}: ${(e as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A real Samba Active Directory domain controller (LDAP only), copied from
 * the template into a temporary folder and started on its own loopback
 * address, with a certificate from a test authority for that address.
 */
export async function startSambaDc(cache: string): Promise<SambaDc> {
  if (!bin('samba') || !bin('samba-tool') || !existsSync('/usr/share/samba/setup'))
    throw new Error(
      "Samba is not installed: .ci/run installs Debian's samba, samba-ad-provision, samba-dsdb-modules and samba-vfs-modules packages",
    );
  if (process.getuid?.() !== 0)
    throw new Error(
      'the Samba AD DC runs as root: it listens on the fixed AD ports (389, 636) and provisioning writes NT ACLs into extended attributes; run the tests as root',
    );
  const source = template(cache);
  const { address, release } = await reserveAddress(cache);
  const dir = join(mkdtempSync(join(tmpdir(), 'iden-samba-')), 'dc');
  let child: ChildProcess | undefined;
  const kill = () => child?.kill('SIGKILL');
  try {
    sh('cp', ['-a', source.dir, dir]);
    const tls = makeCertificates(dir, [address]);
    const conf = join(dir, 'etc', 'smb.conf');
    const text = readFileSync(conf, 'utf8')
      .replaceAll(source.origin, dir)
      .replace(/interfaces = 127\.0\.0\.2\/8/, `interfaces = ${address}/8`)
      .replace(
        '[global]\n',
        `[global]\n\ttls enabled = yes\n\ttls keyfile = ${tls.key}\n\ttls certfile = ${tls.cert}\n\ttls cafile = ${tls.ca}\n`,
      );
    writeFileSync(conf, text);
    let output = '';
    child = spawn(bin('samba')!, ['-i', '-M', 'single', `--configfile=${conf}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    process.once('exit', kill);
    const running = child;
    running.stdout?.on('data', (d) => {
      output = (output + String(d)).slice(-4000);
    });
    running.stderr?.on('data', (d) => {
      output = (output + String(d)).slice(-4000);
    });
    const ldapsUrl = `ldaps://${address}`;
    await answering(ldapsUrl, tls.ca, () => (running.exitCode !== null ? output : undefined));
    const use = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
      const client = await admin(ldapsUrl, tls.ca);
      try {
        return await work(client);
      } finally {
        await client.unbind();
      }
    };
    return {
      address,
      url: `ldap://${address}`,
      ldapsUrl,
      ca: tls.ca,
      add: (entries) =>
        use(async (client) => {
          for (const [dn, attributes] of entries) await client.add(dn, attributes);
        }),
      values: (dn, attribute) =>
        use(async (client) => {
          const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
          const value = searchEntries[0]?.[attribute];
          return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String).sort();
        }),
      modify: (dn, operation, attribute, values) =>
        use((client) =>
          client.modify(
            dn,
            new Change({ operation, modification: new Attribute({ type: attribute, values }) }),
          ),
        ),
      async remove() {
        // Its folder goes with it, so there is nothing to shut down cleanly: SIGKILL saves samba's two-second exit.
        const gone =
          running.exitCode === null ? new Promise((resolve) => running.once('exit', resolve)) : undefined;
        running.kill('SIGKILL');
        await gone;
        process.removeListener('exit', kill);
        release();
        rmSync(join(dir, '..'), { recursive: true, force: true });
      },
    };
  } catch (e) {
    kill();
    process.removeListener('exit', kill);
    release();
    throw e;
  }
}
