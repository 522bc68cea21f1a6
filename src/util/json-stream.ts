/**
 * JSON.stringify(value, null, 2), in pieces: a plan of a million changes is
 * near V8's longest string as one text, so it is written as it is made. The
 * text is exactly what JSON.stringify gives for plain data (objects, arrays,
 * strings, numbers, booleans, null; undefined members left out).
 */
export function* jsonChunks(value: unknown, indent = ''): Generator<string> {
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

/** The pieces gathered into writes of about `size` characters, ending in a newline. */
export function* batched(chunks: Iterable<string>, size = 1 << 16): Generator<string> {
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
  buffer.push('\n');
  yield buffer.join('');
}
