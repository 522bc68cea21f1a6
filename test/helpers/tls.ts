import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificates {
  /** The test authority's certificate: what a caFile setting names. */
  ca: string;
  cert: string;
  key: string;
}

/**
 * A certificate authority of its own and a server certificate it signed for
 * the loopback addresses given, made with openssl in `dir`: TLS is tested
 * with verification on, never with rejectUnauthorized off.
 */
export function makeCertificates(dir: string, addresses: string[]): Certificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '3650',
    '-subj',
    '/CN=iden test authority',
  );
  openssl('req', ...ec, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=directory');
  writeFileSync(
    path('server.ext'),
    `subjectAltName=${[...addresses.map((a) => `IP:${a}`), 'DNS:localhost'].join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('server.pem'),
    '-days',
    '3650',
    '-extfile',
    path('server.ext'),
  );
  // Samba refuses a private key others can read.
  chmodSync(path('server.key'), 0o600);
  return { ca: path('ca.pem'), cert: path('server.pem'), key: path('server.key') };
}
