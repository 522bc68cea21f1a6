// An app's _app.yaml and the _settings.yaml are nested block mappings and
// sequences with short values (a few dozen lines), which `yaml` composes at
// about a millisecond a file before its code is warm: 200 app files were half
// a second of a cold load, and the flow mappings an access rule is written in
// (`rule: { approvals: 1, emergency: { maxDuration: PT4H } }`) a good part of
// what rules cost. For exactly the shape people write them in, this reads the
// value directly; anything else (quotes, anchors, tags, block scalars, a value
// continued on the next line, comments after a value, odd spacing, a value
// YAML would read as anything but a string, a whole number, a decimal or
// true/false) returns undefined and goes to `yaml`, which also gives every
// diagnostic its line and column. It must give exactly what `yaml` gives for
// every text it accepts: test/load/fast-block.test.ts compares the two on
// generated and hostile files.

/** A key in block or flow context: a letter, then letters, digits, '_' and '-'. */
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A block-context plain word YAML reads as a string (fast-yaml.ts's WORD). */
const WORD = /^[A-Za-z][A-Za-z0-9._/@+,-]*(?: [A-Za-z0-9._/@+(),-]+)*$/;
/**
 * A flow-context plain scalar: words without a comma, bracket or brace, one
 * space between them (`{ name: Ana Lima }`); a colon only between word characters.
 */
const FLOW_WORD =
  /^[A-Za-z][A-Za-z0-9._@+/-]*(?::[A-Za-z0-9._@+/-]+)*(?: [A-Za-z0-9._@+/()-]+(?::[A-Za-z0-9._@+/-]+)*)*$/;
/** An ISO date or date-time with an offset: a string to YAML 1.2. */
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
/** A whole number or a decimal the core schema reads as that number (no sign, exponent or leading zero). */
const NUMBER = /^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,6})?$/;
/** Words the core schema reads as booleans or null. */
const RESERVED = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL']);
/** Keys a plain object must not be given. */
const FORBIDDEN = new Set(['constructor', 'prototype']);

/** Not a value: the text is not of the shape read here. */
const NO = Symbol('no');
type Read = unknown | typeof NO;

const isKey = (key: string) => KEY.test(key) && !FORBIDDEN.has(key) && !RESERVED.has(key);

function scalar(text: string, flow: boolean): Read {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (NUMBER.test(text)) return Number(text);
  if (DATE.test(text)) return text;
  if ((flow ? FLOW_WORD : WORD).test(text) && !RESERVED.has(text)) return text;
  return NO;
}

/** A flow collection written exactly `[a, b]`, `[]`, `{ k: v, k: [a] }` or `{}`, starting at `at`: its value and where it ends. */
function flow(text: string, at: number): [Read, number] {
  const open = text[at];
  if (open === '[') {
    if (text[at + 1] === ']') return [[], at + 2];
    const items: unknown[] = [];
    let i = at + 1;
    for (;;) {
      const [item, end] = flowItem(text, i);
      if (item === NO) return [NO, i];
      items.push(item);
      if (text[end] === ']') return [items, end + 1];
      if (text[end] !== ',' || text[end + 1] !== ' ') return [NO, end];
      i = end + 2;
    }
  }
  if (open !== '{') return [NO, at];
  if (text[at + 1] === '}') return [{}, at + 2];
  if (text[at + 1] !== ' ') return [NO, at];
  const map: Record<string, unknown> = {};
  let i = at + 2;
  for (;;) {
    const colon = text.indexOf(': ', i);
    if (colon < 0) return [NO, i];
    const key = text.slice(i, colon);
    if (!isKey(key) || Object.hasOwn(map, key)) return [NO, i];
    const [value, end] = flowItem(text, colon + 2);
    if (value === NO) return [NO, end];
    map[key] = value;
    if (text[end] === ',' && text[end + 1] === ' ') i = end + 2;
    else if (text[end] === ' ' && text[end + 1] === '}') return [map, end + 2];
    else return [NO, end];
  }
}

/**
 * A value inside a flow collection: a nested collection, or words up to the
 * next ',', ']' or '}' (the one space before a closing '}' is not the value's).
 */
function flowItem(text: string, at: number): [Read, number] {
  const c = text[at];
  if (c === '[' || c === '{') return flow(text, at);
  let end = at;
  while (end < text.length) {
    const d = text[end];
    if (d === ',' || d === ']' || d === '}') break;
    end++;
  }
  if (end > at && text[end - 1] === ' ') {
    if (text[end] !== '}') return [NO, end];
    end--;
  }
  return [scalar(text.slice(at, end), true), end];
}

/** A value after `key: ` or `- ` on a line: a flow collection that is the whole rest, or a scalar. */
function inline(text: string): Read {
  const c = text[0];
  if (c === '[' || c === '{') {
    const [value, end] = flow(text, 0);
    return end === text.length ? value : NO;
  }
  return scalar(text, false);
}

interface Line {
  indent: number;
  body: string;
}

class Reader {
  i = 0;
  constructor(readonly lines: Line[]) {}

  /** The node whose first line is the current one, at `indent`: a sequence when it starts with '- ', else a mapping. */
  node(indent: number): Read {
    const line = this.lines[this.i];
    if (!line || line.indent !== indent) return NO;
    return line.body.startsWith('- ') ? this.sequence(indent) : this.mapping(indent, line.body);
  }

  /** Entries at `indent`, the first of them `first` (the text after a '- ' for a mapping in a sequence item). */
  mapping(indent: number, first: string): Read {
    const map: Record<string, unknown> = {};
    let body = first;
    for (;;) {
      const colon = body.indexOf(':');
      const key = colon < 0 ? '' : body.slice(0, colon);
      if (!isKey(key) || Object.hasOwn(map, key)) return NO;
      this.i++;
      if (colon === body.length - 1) {
        // `key:` alone: a block below it, deeper, or a sequence at the same indent.
        const next = this.lines[this.i];
        if (!next) return NO;
        if (next.indent > indent) map[key] = this.node(next.indent);
        else if (next.indent === indent && next.body.startsWith('- ')) map[key] = this.sequence(indent);
        else return NO;
      } else {
        if (body[colon + 1] !== ' ' || body[colon + 2] === ' ') return NO;
        map[key] = inline(body.slice(colon + 2));
      }
      if (map[key] === NO) return NO;
      const next = this.lines[this.i];
      if (!next || next.indent < indent) return map;
      if (next.indent > indent || next.body.startsWith('- ')) {
        // A sequence at the mapping's own indent ends it (it belonged to the key above); anything deeper is a continuation.
        return next.indent === indent ? map : NO;
      }
      body = next.body;
    }
  }

  /** Items at `indent`, each '- ' and a value, or a mapping whose first entry shares the item's line. */
  sequence(indent: number): Read {
    const items: unknown[] = [];
    for (;;) {
      const line = this.lines[this.i]!;
      const rest = line.body.slice(2);
      let item: Read;
      if (rest[0] === '[' || rest[0] === '{' || !/^[A-Za-z][A-Za-z0-9_-]*:(?: |$)/.test(rest)) {
        item = inline(rest);
        this.i++;
        const next = this.lines[this.i];
        if (next && next.indent > indent) return NO;
      } else item = this.mapping(indent + 2, rest);
      if (item === NO) return NO;
      items.push(item);
      const next = this.lines[this.i];
      if (!next || next.indent < indent) return items;
      if (next.indent > indent || !next.body.startsWith('- ')) {
        // The mapping holding this sequence at its own indent goes on.
        return next.indent === indent ? items : NO;
      }
    }
  }
}

/**
 * The value of a mapping of nested block mappings and sequences, values
 * plain words, numbers, true/false and flow collections of those on one
 * line, with whole-line comments and blank lines; undefined for any other
 * text.
 */
export function fastBlock(text: string): Record<string, unknown> | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let indent = 0;
    while (raw.charCodeAt(indent) === 0x20) indent++;
    if (indent === raw.length) return undefined;
    if (raw[indent] === '#') continue;
    const body = raw.slice(indent);
    if (body.endsWith(' ')) return undefined;
    lines.push({ indent, body });
  }
  if (lines.length === 0 || lines[0]!.body.startsWith('- ')) return undefined;
  const reader = new Reader(lines);
  let value: Read;
  try {
    value = reader.node(0);
  } catch {
    // Nesting deep enough to exhaust the stack: yaml says what it makes of it.
    return undefined;
  }
  if (value === NO || reader.i !== lines.length) return undefined;
  return value as Record<string, unknown>;
}
