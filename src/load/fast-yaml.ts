// Most grant files are a handful of `key: value` lines. For exactly that
// shape this reads the value directly, about fifteen times faster than
// composing a YAML document; anything else (quotes, anchors, tags, block
// scalars, nesting, comments after a value, odd spacing, a value YAML would
// read as a number, boolean or null) returns undefined and goes to the `yaml`
// package, which also gives every diagnostic its line and column. It must give
// exactly what `yaml` gives for every text it accepts: test/load/fast-yaml.test.ts
// compares the two on generated and hostile files.

/** A key: lowercase letters and underscores (every field iden reads). */
const LINE = /^([a-z][a-z_]*): (.+)$/;
/** A plain word YAML's core schema reads as a string: starts with a letter, no indicator or space-hash. */
const WORD = /^[A-Za-z][A-Za-z0-9._/@+,-]*(?: [A-Za-z0-9._/@+(),-]+)*$/;
/** An ISO date or date-time with an offset: a string to YAML 1.2 (no timestamp type in the core schema). */
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
/** An id in a flow list: no spaces, commas or brackets. */
const ITEM = /^[a-z][a-z0-9._-]*$/;
/** Words the core schema reads as booleans or null, not strings. */
const RESERVED = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL']);
/** Keys a plain object must not be given. */
const FORBIDDEN = new Set(['constructor', 'prototype']);

function scalar(text: string): string | undefined {
  if (DATE.test(text)) return text;
  if (WORD.test(text) && !RESERVED.has(text)) return text;
  return undefined;
}

/**
 * The value of a flat mapping of plain words, dates and `[a, b]` lists of
 * ids, with whole-line comments and blank lines; undefined for any other text.
 */
export function fastYaml(text: string): Record<string, unknown> | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  const value: Record<string, unknown> = {};
  let keys = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) return undefined;
    const key = m[1]!;
    const rest = m[2]!;
    if (FORBIDDEN.has(key) || Object.hasOwn(value, key)) return undefined;
    if (rest.startsWith('[')) {
      if (!rest.endsWith(']')) return undefined;
      const inner = rest.slice(1, -1);
      if (inner.trim() === '') {
        if (inner !== '') return undefined;
        value[key] = [];
      } else {
        const items = inner.split(', ');
        for (const item of items) if (!ITEM.test(item) || RESERVED.has(item)) return undefined;
        value[key] = items;
      }
    } else {
      const text = scalar(rest);
      if (text === undefined) return undefined;
      value[key] = text;
    }
    keys++;
  }
  return keys > 0 ? value : undefined;
}

/** A key inside a flow mapping: an app id. */
const FLOW_KEY = /^[a-z][a-z0-9_-]*$/;
/** A value inside a flow mapping: no space, comma, bracket or brace; starts with a letter. */
const FLOW_VALUE = /^[A-Za-z][A-Za-z0-9._@+-]*$/;

/** `{ a: x, b: y }`, written exactly so, of ids to plain words; undefined for anything else. */
function flowMap(text: string): Record<string, string> | undefined {
  if (!text.startsWith('{ ') || !text.endsWith(' }')) return undefined;
  const map: Record<string, string> = {};
  for (const pair of text.slice(2, -2).split(', ')) {
    const colon = pair.indexOf(': ');
    if (colon < 0) return undefined;
    const key = pair.slice(0, colon);
    const value = pair.slice(colon + 2);
    if (!FLOW_KEY.test(key) || FORBIDDEN.has(key) || Object.hasOwn(map, key)) return undefined;
    if (!FLOW_VALUE.test(value) || RESERVED.has(value)) return undefined;
    map[key] = value;
  }
  return map;
}

/**
 * The directory (`_people.yaml`) in the shape people write it, which YAML
 * takes a second to compose for 10,000 people:
 *
 *     people:
 *       - id: alice
 *         name: Alice Martin
 *         accounts: { github: alice-m }
 *
 * with whole-line comments and blank lines; undefined for any other text.
 */
export function fastPeople(text: string): Record<string, unknown> | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  const people: Record<string, unknown>[] = [];
  let current: Record<string, unknown> | undefined;
  let started = false;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (!started) {
      if (line !== 'people:') return undefined;
      started = true;
      continue;
    }
    let body: string;
    if (line.startsWith('  - ')) {
      current = {};
      people.push(current);
      body = line.slice(4);
    } else if (line.startsWith('    ') && current) body = line.slice(4);
    else return undefined;
    const m = LINE.exec(body);
    if (!m) return undefined;
    const key = m[1]!;
    const rest = m[2]!;
    if (FORBIDDEN.has(key) || Object.hasOwn(current, key)) return undefined;
    const value = rest.startsWith('{') ? flowMap(rest) : scalar(rest);
    if (value === undefined) return undefined;
    current[key] = value;
  }
  return started && people.length > 0 ? { people } : undefined;
}

/** Where a flat grant file puts each key and its value, by line and 1-based column. */
export interface FlatLayout {
  /** The first key's line: where the mapping itself starts. */
  first: number;
  keys: Map<string, { line: number; value: number; items: number[] | undefined }>;
}

/**
 * The layout of a text fastYaml reads, read off its lines: what placing a
 * finding in a grant file needs, without composing a YAML document.
 * Undefined for any text fastYaml does not read.
 */
export function fastLayout(text: string): FlatLayout | undefined {
  if (fastYaml(text) === undefined) return undefined;
  const keys: FlatLayout['keys'] = new Map();
  let first = 0;
  let line = 0;
  for (const body of text.split('\n')) {
    line++;
    if (body === '' || body.startsWith('#')) continue;
    first ||= line;
    const colon = body.indexOf(': ');
    const value = colon + 3;
    const rest = body.slice(colon + 2);
    let items: number[] | undefined;
    if (rest.startsWith('[')) {
      items = [];
      let column = value + 1;
      if (rest !== '[]')
        for (const item of rest.slice(1, -1).split(', ')) {
          items.push(column);
          column += item.length + 2;
        }
    }
    keys.set(body.slice(0, colon), { line, value, items });
  }
  return { first, keys };
}

/**
 * locate (parse-yaml.ts) on a flat layout: the node a path names, or the
 * deepest one found on the way; the key's position for part 'key' when the
 * last step was a key. test/load/fast-yaml.test.ts holds it to locate.
 */
export function locateFlat(
  layout: FlatLayout,
  path: readonly (string | number)[],
  part: 'key' | 'value' = 'value',
): { line: number; column: number } {
  const [key, index] = path;
  const entry = typeof key === 'string' ? layout.keys.get(key) : undefined;
  if (!entry) return { line: layout.first, column: 1 };
  const item = path.length > 1 && typeof index === 'number' ? entry.items?.[index] : undefined;
  if (item !== undefined) return { line: entry.line, column: item };
  return { line: entry.line, column: part === 'key' && path.length === 1 ? 1 : entry.value };
}
