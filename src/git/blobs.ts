import { gitBytes, gitBytesThroughFile } from './run.js';

/**
 * Reads many git objects through one `git cat-file --batch` process: far
 * faster than a `git show` per file on a long history.
 */
export async function readBlobs(
  root: string,
  ids: Iterable<string>,
  /** Thousands of blobs: git writes them to a file, read back whole (gitBytesThroughFile). */
  options: { many?: boolean } = {},
): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  // Decoded straight from git's output: no view of the bytes per blob (an audit reads thousands).
  await eachObject(
    root,
    ids,
    (id, type, out, start, end) => {
      if (type === 'blob') texts.set(id, out.toString('utf8', start, end));
    },
    options.many,
  );
  return texts;
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
  const objects = new Map<string, { type: string; data: Buffer }>();
  await eachObject(root, ids, (id, type, out, start, end) => {
    objects.set(id, { type, data: out.subarray(start, end) });
  });
  return objects;
}

/** Reads the objects through one `git cat-file --batch`, handing each found one's type and place in the output to `found`. */
async function eachObject(
  root: string,
  ids: Iterable<string>,
  found: (id: string, type: string, out: Buffer, start: number, end: number) => void,
  many = false,
): Promise<void> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return;
  // --buffer: git's own output buffering (every id is written before any answer is read).
  const args = ['cat-file', '--batch', '--buffer'];
  const input = `${wanted.join('\n')}\n`;
  const out = many ? await gitBytesThroughFile(root, args, input) : await gitBytes(root, args, input);
  let at = 0;
  for (const id of wanted) {
    const newline = out.indexOf(0x0a, at);
    const header = out.toString('latin1', at, newline);
    at = newline + 1;
    const [, type, size] = header.split(' ');
    if (type === undefined || size === undefined) continue; // "<id> missing"
    const length = Number(size);
    found(id, type, out, at, at + length);
    at += length + 1;
  }
}
