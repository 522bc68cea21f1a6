import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A list made afresh each time it is read (a million rows never held at once):
 * written as an array by jsonChunks.
 */
export class LazyList<T> implements Iterable<T> {
  constructor(private readonly make: () => Iterable<T>) {}

  [Symbol.iterator](): Iterator<T> {
    return this.make()[Symbol.iterator]();
  }
}

/**
 * JSON.stringify(value, null, 2), in pieces: a plan of a million changes is
 * near V8's longest string as one text, so it is written as it is made. The
 * text is exactly what JSON.stringify gives for plain data (objects, arrays,
 * strings, numbers, booleans, null; undefined members left out).
 */
export function* jsonChunks(value: unknown, indent = ''): Generator<string> {
  if (value instanceof LazyList) {
    const inner = `${indent}  `;
    let first = true;
    for (const item of value) {
      yield first ? '[\n' : ',\n';
      first = false;
      yield inner;
      yield* item === undefined || typeof item === 'function' ? ['null'] : jsonChunks(item, inner);
    }
    return yield first ? '[]' : `\n${indent}]`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return yield '[]';
    const inner = `${indent}  `;
    yield '[\n';
    for (let i = 0; i < value.length; i++) {
      yield inner;
      const item = value[i];
      yield* item === undefined || typeof item === 'function' ? ['null'] : jsonChunks(item, inner);
      yield i < value.length - 1 ? ',\n' : `\n${indent}]`;
    }
    return;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    if (entries.length === 0) return yield '{}';
    const inner = `${indent}  `;
    yield '{\n';
    for (let i = 0; i < entries.length; i++) {
      const [key, item] = entries[i]!;
      yield `${inner}${JSON.stringify(key)}: `;
      yield* jsonChunks(item, inner);
      yield i < entries.length - 1 ? ',\n' : `\n${indent}}`;
    }
    return;
  }
  yield JSON.stringify(value) ?? 'null';
}

/** The pieces gathered into writes of about `size` characters, ending in `end` (a newline). */
export function* batched(chunks: Iterable<string>, size = 1 << 16, end = '\n'): Generator<string> {
  let buffer: string[] = [];
  let length = 0;
  for (const chunk of chunks) {
    buffer.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield buffer.join('');
      buffer = [];
      length = 0;
    }
  }
  buffer.push(end);
  const last = buffer.join('');
  if (last !== '') yield last;
}

/** Writes a text made in pieces to a file, a piece at a time: never the whole text in memory. */
export function writePieces(path: string, pieces: Iterable<string>): void {
  const fd = openSync(path, 'w');
  try {
    for (const piece of pieces) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}
