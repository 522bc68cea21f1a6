import { gitBytes } from './run.js';

/**
 * Reads many git objects through one `git cat-file --batch` process: far
 * faster than a `git show` per file on a long history.
 */
export async function readBlobs(root: string, ids: Iterable<string>): Promise<Map<string, string>> {
  const buffers = await readBlobBuffers(root, ids);
  return new Map([...buffers].map(([id, bytes]) => [id, bytes.toString('utf8')]));
}

/** The same, as bytes: for files whose encoding is itself to be checked. */
export async function readBlobBuffers(root: string, ids: Iterable<string>): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  for (const [id, object] of await readObjects(root, ids))
    if (object.type === 'blob') blobs.set(id, object.data);
  return blobs;
}

/** Any objects (commits, trees, blobs) by id, with their type; a missing id is left out. */
export async function readObjects(
  root: string,
  ids: Iterable<string>,
): Promise<Map<string, { type: string; data: Buffer }>> {
  const wanted = [...new Set(ids)];
  const objects = new Map<string, { type: string; data: Buffer }>();
  if (wanted.length === 0) return objects;
  const out = await gitBytes(root, ['cat-file', '--batch'], `${wanted.join('\n')}\n`);
  let at = 0;
  for (const id of wanted) {
    const newline = out.indexOf(0x0a, at);
    const header = out.subarray(at, newline).toString();
    at = newline + 1;
    const [, type, size] = header.split(' ');
    if (type === undefined || size === undefined) continue; // "<id> missing"
    const length = Number(size);
    objects.set(id, { type, data: out.subarray(at, at + length) });
    at += length + 1;
  }
  return objects;
}
