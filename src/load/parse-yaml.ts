import { isUtf8 } from 'node:buffer';
import type { Document, LineCounter, Node } from 'yaml';
import type { Code, Diagnostic, Finding, YamlPath } from '../model/diagnostics.js';
import type { ParsedYaml } from '../model/parsed-yaml.js';
import { yaml } from '../util/yaml.js';

export const GRANT_FILE_LIMIT = 64 * 1024;
/** A grant file's path (not _app.yaml): for the size message. */
const GRANT_FILE = /^grants\/[^/]+\/(?!_)[^/]+$/;
export const OTHER_FILE_LIMIT = 16 * 1024 * 1024;
const MAX_ALIASES = 16;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const FORBIDDEN_KEY_HINT = /__proto__|constructor|prototype/;

export type { ParsedYaml } from '../model/parsed-yaml.js';

/**
 * Parses one access-repository file defensively: size, encoding, YAML errors,
 * alias bombs, prototype keys, several documents and non-mapping tops all
 * become diagnostics with a line and column instead of exceptions.
 */
export function parseYaml(file: string, bytes: Uint8Array, limit: number): ParsedYaml {
  const lines = new (yaml().LineCounter)();
  const fail = (code: Code, message: string, line = 1, column = 1): ParsedYaml => ({
    doc: undefined,
    lines,
    value: undefined,
    diagnostics: [{ file, line, column, severity: 'error', code, message }],
  });

  if (bytes.length > limit) {
    const size = limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MiB` : `${limit / 1024} KiB`;
    const why = GRANT_FILE.test(file)
      ? 'a grant file is a few lines'
      : 'split it, or keep what is not access data elsewhere';
    return fail('file-too-large', `the file is larger than ${size}, the most iden reads; ${why}`);
  }
  if (!isUtf8(bytes)) {
    const { line, column } = firstInvalidUtf8(bytes);
    return fail('not-utf8', 'the file holds bytes that are not UTF-8; save it as UTF-8', line, column);
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const doc = yaml().parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
  });
  const diagnostics: Diagnostic[] = [];
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lines.linePos(problem.pos[0]);
    diagnostics.push({
      file,
      line,
      column: col,
      severity: 'error',
      code: yamlCode(problem.code),
      message: yamlMessage(problem.code, problem.message),
    });
  }
  if (diagnostics.length > 0) return { doc: undefined, lines, value: undefined, diagnostics };

  if (doc.contents === null || (yaml().isScalar(doc.contents) && doc.contents.value === null)) {
    return fail('empty-file', 'the file is empty; it should be a mapping such as "user: alice"');
  }
  if (!yaml().isMap(doc.contents)) {
    const at = position(lines, doc.contents);
    const what = yaml().isSeq(doc.contents) ? 'a list' : 'a single value';
    return fail(
      'not-a-mapping',
      `the top level is ${what}; it must be a mapping of keys to values`,
      at.line,
      at.column,
    );
  }
  if (text.includes('*')) diagnostics.push(...aliasBomb(file, doc, lines));
  if (FORBIDDEN_KEY_HINT.test(text)) diagnostics.push(...forbiddenKeys(file, doc, lines));
  if (diagnostics.length > 0) return { doc: undefined, lines, value: undefined, diagnostics };

  try {
    const value = doc.toJS({ maxAliasCount: MAX_ALIASES * 4 }) as Record<string, unknown>;
    return { doc, lines, value, diagnostics };
  } catch {
    return fail('too-many-aliases', 'the YAML aliases expand too far; write the values out');
  }
}

function yamlCode(code: string): Code {
  if (code === 'DUPLICATE_KEY') return 'duplicate-key';
  if (code === 'MULTIPLE_DOCS') return 'multiple-documents';
  return 'yaml-syntax';
}

function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS')
    return 'the file holds more than one YAML document (a second "---"); keep one per file';
  if (code === 'DUPLICATE_KEY') return `${message}; keep one`;
  if (code === 'TAB_AS_INDENT') return `${message}; indent with spaces`;
  return message;
}

function aliasBomb(file: string, doc: Document.Parsed, lines: LineCounter): Diagnostic[] {
  let count = 0;
  let culprit: Node | undefined;
  yaml().visit(doc, {
    Alias(_, node) {
      count++;
      if (count > MAX_ALIASES) {
        culprit = node;
        return yaml().visit.BREAK;
      }
      return undefined;
    },
  });
  if (!culprit) return [];
  const { line, column } = position(lines, culprit);
  return [
    {
      file,
      line,
      column,
      severity: 'error',
      code: 'too-many-aliases',
      message: `more than ${MAX_ALIASES} YAML aliases (*name); write the values out`,
    },
  ];
}

function forbiddenKeys(file: string, doc: Document.Parsed, lines: LineCounter): Diagnostic[] {
  const found: Diagnostic[] = [];
  yaml().visit(doc, {
    Pair(_, pair) {
      if (yaml().isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
        const { line, column } = position(lines, pair.key);
        found.push({
          file,
          line,
          column,
          severity: 'error',
          code: 'forbidden-key',
          message: `"${String(pair.key.value)}" is not allowed as a key`,
        });
      }
    },
  });
  return found;
}

function position(
  lines: LineCounter,
  node: { range?: [number, number, number] | null | undefined },
): {
  line: number;
  column: number;
} {
  const { line, col } = lines.linePos(node.range?.[0] ?? 0);
  return { line, column: col };
}

/**
 * The line and column of the node a path names, for findings made after
 * parsing. A path that goes past the tree points at the deepest node found,
 * so a finding is never lost for want of a node.
 */
export function locate(
  parsed: Pick<ParsedYaml, 'doc' | 'lines'>,
  path: YamlPath,
  part: 'key' | 'value' = 'value',
): { line: number; column: number } {
  const { doc, lines } = parsed;
  if (!doc) return { line: 1, column: 1 };
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const step of path) {
    keyNode = undefined;
    if (yaml().isMap(node)) {
      const pair = node.items.find((p) => yaml().isPair(p) && yaml().isScalar(p.key) && p.key.value === step);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (yaml().isSeq(node) && typeof step === 'number' && node.items[step]) {
      node = node.items[step];
    } else {
      break;
    }
  }
  const target = part === 'key' && keyNode ? keyNode : node;
  return position(lines, (target ?? {}) as { range?: [number, number, number] });
}

/** A finding placed at its line; without a parsed document (the file could not be read again) at the top. */
export function resolveFinding(
  parsed: Pick<ParsedYaml, 'doc' | 'lines'> | undefined,
  finding: Finding,
): Diagnostic {
  const { file, severity, code, message, where } = finding;
  const at =
    'line' in where ? where : parsed ? locate(parsed, where.path, where.part) : { line: 1, column: 1 };
  return { file, line: at.line, column: at.column, severity, code, message };
}

function firstInvalidUtf8(bytes: Uint8Array): { line: number; column: number } {
  const text = new TextDecoder('utf-8').decode(bytes);
  const bad = text.indexOf('\ufffd');
  const before = text.slice(0, Math.max(bad, 0));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}
