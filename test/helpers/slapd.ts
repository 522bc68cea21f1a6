import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { makeCertificates } from './tls.js';

export const SUFFIX = 'dc=example,dc=test';
export const ADMIN = { dn: `cn=admin,${SUFFIX}`, password: 'admin-secret' };
/** iden's own bind account: may read, and write only the member attributes of entries under ou=groups. */
export const SERVICE = { dn: `cn=iden,ou=services,${SUFFIX}`, password: 'iden-bind-Secret-42' };

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Slapd {
  /** ldap://127.0.0.1:<port> */
  url: string;
  /** ldaps://127.0.0.1:<port> */
  ldapsUrl: string;
  /** The PEM of the authority that signed the server's certificate. */
  ca: string;
  /** A client bound as the directory's root (rootdn): for the test's own reads and writes. */
  admin(): Promise<Client>;
  /** Adds entries as the root, in one connection. */
  add(entries: [string, Record<string, string | string[]>][]): Promise<void>;
  /** A group's values of one attribute, as stored. */
  values(dn: string, attribute: string): Promise<string[]>;
  modify(
    dn: string,
    operation: 'add' | 'delete' | 'replace',
    attribute: string,
    values: string[],
  ): Promise<void>;
  /** Stops the server (its data stays): a test that stops it mid-run starts it again with start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  remove(): Promise<void>;
}

const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'];

function config(dir: string, tls: { ca: string; cert: string; key: string }): string {
  return `${SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`).join('\n')}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload refint
pidfile ${join(dir, 'slapd.pid')}
argsfile ${join(dir, 'slapd.args')}
TLSCACertificateFile ${tls.ca}
TLSCertificateFile ${tls.cert}
TLSCertificateKeyFile ${tls.key}
# A search that is not paged stops at 500 entries: reads of more must page (RFC 2696).
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited

database mdb
maxsize 1073741824
# Test data need not survive a crash of the machine: no fsync per write.
dbnosync
suffix "${SUFFIX}"
rootdn "${ADMIN.dn}"
rootpw ${ADMIN.password}
directory ${join(dir, 'data')}
index objectClass eq
index uid,cn,mail,member,uniqueMember,memberUid eq
access to attrs=userPassword by self write by anonymous auth by * none
access to dn.subtree="ou=groups,${SUFFIX}" attrs=member,uniqueMember,memberUid
  by dn.exact="${SERVICE.dn}" write
  by users read
access to * by users read

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay refint
refint_attributes member uniqueMember
`;
}

/**
 * A real OpenLDAP slapd (mdb, memberOf and refint overlays) in a temporary
 * folder, on random loopback ports for ldap:// (StartTLS offered) and
 * ldaps://, with a certificate from a test authority. The base entries and
 * iden's service account are there; each test adds its own people and groups.
 */
export async function startSlapd(): Promise<Slapd> {
  if (!existsSync('/usr/sbin/slapd'))
    throw new Error("slapd is not installed: .ci/run installs Debian's slapd and ldap-utils packages");
  const dir = mkdtempSync(join(tmpdir(), 'iden-slapd-'));
  mkdirSync(join(dir, 'data'));
  const tls = makeCertificates(dir, ['127.0.0.1']);
  writeFileSync(join(dir, 'slapd.conf'), config(dir, tls));
  const [port, securePort] = [await freePort(), await freePort()];
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${securePort}`;
  let child: ChildProcess | undefined;
  const kill = () => child?.kill('SIGKILL');

  const start = async () => {
    // In the foreground (-d), so this process is slapd itself and its pid is the one to stop; at level
    // 32768 (none) it still says "slapd starting" once its configuration and database are open.
    const started = spawn(
      '/usr/sbin/slapd',
      ['-h', `${url}/ ${ldapsUrl}/`, '-f', join(dir, 'slapd.conf'), '-d', '32768'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child = started;
    process.once('exit', kill);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        stderr += String(d);
        if (!stderr.includes('slapd starting')) return;
        started.stderr?.off('data', onData);
        started.stderr?.resume();
        resolve();
      };
      started.stderr?.on('data', onData);
      started.once('exit', (code) => reject(new Error(`slapd exited (${code}): ${stderr}`)));
    });
    // It says so as its listener thread starts, which may still be a moment from listen().
    await answering(url, () =>
      started.exitCode !== null || started.signalCode !== null ? stderr : undefined,
    );
  };

  const admin = async () => {
    const client = new Client({ url, timeout: 10_000, connectTimeout: 10_000 });
    await client.bind(ADMIN.dn, ADMIN.password);
    return client;
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    process.removeListener('exit', kill);
    if (!running || running.exitCode !== null) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await gone;
  };

  const server: Slapd = {
    url,
    ldapsUrl,
    ca: tls.ca,
    admin,
    start,
    stop,
    async add(entries) {
      const client = await admin();
      try {
        for (const [dn, attributes] of entries) await client.add(dn, attributes);
      } finally {
        await client.unbind();
      }
    },
    async values(dn, attribute) {
      const client = await admin();
      try {
        const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
        const value = searchEntries[0]?.[attribute];
        return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String).sort();
      } finally {
        await client.unbind();
      }
    },
    async modify(dn, operation, attribute, values) {
      const client = await admin();
      try {
        await client.modify(
          dn,
          new Change({ operation, modification: new Attribute({ type: attribute, values }) }),
        );
      } finally {
        await client.unbind();
      }
    },
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // A server that started but could not be readied is stopped here: no test will hold it to stop it.
  try {
    await start();
    await server.add([
      [SUFFIX, { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' }],
      ...['people', 'groups', 'services'].map((ou): [string, Record<string, string[] | string>] => [
        `ou=${ou},${SUFFIX}`,
        { objectClass: 'organizationalUnit', ou },
      ]),
      [
        SERVICE.dn,
        {
          objectClass: ['organizationalRole', 'simpleSecurityObject'],
          cn: 'iden',
          userPassword: SERVICE.password,
        },
      ],
    ]);
  } catch (e) {
    await server.remove();
    throw e;
  }
  return server;
}

/**
 * Waits until the server takes a connection: each refused one is tried again
 * a little later, for 20 s at most (a machine running the whole suite may
 * keep a starting slapd from its listen() for seconds), unless it has exited.
 */
export async function answering(
  url: string,
  exited: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return;
    } catch (e) {
      const why = exited();
      if (why !== undefined) throw new Error(`slapd exited: ${why}`);
      if (performance.now() > deadline) throw new Error(`${url} did not answer: ${(e as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

/** People as inetOrgPerson entries under ou=people: uid, cn, sn, mail. */
export function person(
  uid: string,
  extra: Record<string, string | string[]> = {},
): [string, Record<string, string | string[]>] {
  return [
    `uid=${uid},ou=people,${SUFFIX}`,
    {
      objectClass: ['inetOrgPerson', 'posixAccount'],
      uid,
      cn: uid,
      sn: uid,
      mail: `${uid}@example.test`,
      uidNumber: '10000',
      gidNumber: '10000',
      homeDirectory: `/home/${uid}`,
      ...extra,
    },
  ];
}
