import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface Locked {
  version: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  license?: string;
}

/**
 * An npm registry on loopback that knows exactly the packages a lockfile pins,
 * their tarballs read from an npm cache that `npm ci` of that lockfile filled:
 * how a test installs a package as a new team would, with the network cut
 * off. (`npm ci` caches tarballs only, not the registry's documents an
 * install from a package.json needs, so offline mode alone cannot do it.)
 */
export async function startLockfileRegistry(
  lockfile: string,
  cache: string,
): Promise<{ url: string; requests: string[]; stop: () => Promise<void> }> {
  const packages = JSON.parse(readFileSync(lockfile, 'utf8')).packages as Record<string, Locked>;
  const byName = new Map<string, Map<string, Locked>>();
  for (const [path, entry] of Object.entries(packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || !entry.version || !entry.integrity) continue;
    const name = path.slice(at + 'node_modules/'.length);
    if (!byName.has(name)) byName.set(name, new Map());
    byName.get(name)!.set(entry.version, entry);
  }
  const requests: string[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    requests.push(path);
    const tarball = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(path);
    if (tarball) {
      const entry = byName.get(tarball[1]!)?.get(tarball[2]!);
      const file = entry?.integrity ? cached(cache, entry.integrity) : undefined;
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    const versions = byName.get(path);
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const base = path.split('/').pop();
    const document = {
      name: path,
      'dist-tags': { latest: [...versions.keys()].at(-1) },
      versions: Object.fromEntries(
        [...versions].map(([version, e]) => [
          version,
          {
            name: path,
            version,
            ...pick(e, ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta']),
            ...pick(e, ['engines', 'bin', 'os', 'cpu', 'libc', 'license']),
            dist: { tarball: `${url}/${path}/-/${base}-${version}.tgz`, integrity: e.integrity },
          },
        ]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

function pick(entry: Locked, keys: (keyof Locked)[]): Partial<Locked> {
  return Object.fromEntries(keys.filter((k) => entry[k] !== undefined).map((k) => [k, entry[k]]));
}

/** Where cacache keeps the content of an integrity (content-v2/<algorithm>/<hex digest split 2/2/rest>). */
function cached(cache: string, integrity: string): string | undefined {
  const [algorithm, digest] = integrity.split(' ')[0]!.split('-', 2) as [string, string];
  const hex = Buffer.from(digest, 'base64').toString('hex');
  const file = join(
    cache,
    '_cacache',
    'content-v2',
    algorithm,
    hex.slice(0, 2),
    hex.slice(2, 4),
    hex.slice(4),
  );
  return existsSync(file) ? file : undefined;
}
