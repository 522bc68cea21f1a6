import type { Diagnostic, Finding } from '../model/diagnostics.js';
import { checkSchema, type FileKind } from '../schema/check.js';
import { fastBlock } from './fast-block.js';
import { fastLayout, fastPeople, fastYaml, locateFlat } from './fast-yaml.js';
import {
  GRANT_FILE_LIMIT,
  OTHER_FILE_LIMIT,
  type ParsedYaml,
  parseYaml,
  resolveFinding,
} from './parse-yaml.js';
import type { Tree } from './tree.js';

export interface LoadedFile {
  file: string;
  /** The value when the file parsed and passed its schema. */
  value: Record<string, unknown> | undefined;
  /** The value whenever the file parsed to a mapping, schema-valid or not. */
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
  parsed: ParsedYaml | undefined;
}

/** Reads, parses and schema-checks one file (`source`: where the tree holds it); every failure is a diagnostic. */
export function loadFile(
  file: string,
  tree: Tree,
  source: string,
  kind: FileKind,
  keepDocument: boolean,
  fast = !keepDocument,
): LoadedFile {
  return loadBytes(file, readBytes(tree, source, kind), kind, keepDocument, fast);
}

/** A file's bytes (at most its kind's limit + 1), or why they could not be read. */
export function readBytes(tree: Tree, source: string, kind: FileKind): Uint8Array | Error {
  try {
    return tree.read(source, limitOf(kind));
  } catch (e) {
    return e as Error;
  }
}

export const limitOf = (kind: FileKind) => (kind === 'grant' ? GRANT_FILE_LIMIT : OTHER_FILE_LIMIT);

/**
 * The fast reader of each kind of file (fast-yaml.ts, fast-block.ts). People
 * are written one field a line (fastPeople) or a person a line,
 * `- { id: alice, email: … }`, which the block reader takes.
 */
const FAST: Record<FileKind, (text: string) => Record<string, unknown> | undefined> = {
  grant: fastYaml,
  people: (text) => fastPeople(text) ?? fastBlock(text),
  app: fastBlock,
  settings: fastBlock,
};

/**
 * Parses and schema-checks a file's bytes, or reports why they could not be
 * read. keepDocument: keep the YAML document when one is composed, to place
 * later findings. fast (by default, when no document is kept): a file of the
 * shape its kind's fast reader takes that passes its schema is read without
 * composing a document (nothing is placed on its lines then; a finding made
 * later reads it again, placeFindings).
 */
export function loadBytes(
  file: string,
  bytes: Uint8Array | Error,
  kind: FileKind,
  keepDocument: boolean,
  fast = !keepDocument,
): LoadedFile {
  let parsed: ParsedYaml;
  const limit = limitOf(kind);
  try {
    if (bytes instanceof Error) throw bytes;
    if (fast) {
      const value = quick(bytes, limit, FAST[kind]);
      if (value && checkSchema(kind, file, value).length === 0)
        return { file, value, raw: value, diagnostics: [], parsed: undefined };
    }
    parsed = parseYaml(file, bytes, limit);
  } catch (e) {
    const message = `cannot read the file: ${(e as Error).message}`;
    return {
      file,
      value: undefined,
      raw: undefined,
      parsed: undefined,
      diagnostics: [{ file, line: 1, column: 1, severity: 'error', code: 'unreadable', message }],
    };
  }
  const diagnostics = parsed.diagnostics;
  let value = parsed.value;
  if (value) {
    const findings = checkSchema(kind, file, value);
    for (const finding of findings) diagnostics.push(resolveFinding(parsed, finding));
    if (findings.length > 0) value = undefined;
  }
  return { file, value, raw: parsed.value, diagnostics, parsed: keepDocument ? parsed : undefined };
}

/**
 * How findings made after loading are placed in a file read again: a grant
 * file of the flat shape by its lines alone (a few hundred of them in a
 * repository that breaks a conflict, each a fraction of a YAML parse), any
 * other file by its parsed document.
 */
export function placerOf(
  file: string,
  tree: Tree,
  source: string,
  kind: FileKind,
): (finding: Finding) => Diagnostic {
  const bytes = readBytes(tree, source, kind);
  const layout =
    kind === 'grant' && !(bytes instanceof Error) ? quick(bytes, limitOf(kind), fastLayout) : undefined;
  if (layout)
    return (finding) => {
      const { where } = finding;
      const at = 'line' in where ? where : locateFlat(layout, where.path, where.part);
      const { severity, code, message } = finding;
      return { file: finding.file, line: at.line, column: at.column, severity, code, message };
    };
  const parsed = loadBytes(file, bytes, kind, true).parsed;
  return (finding) => resolveFinding(parsed, finding);
}

function quick<T>(bytes: Uint8Array, limit: number, read: (text: string) => T | undefined): T | undefined {
  if (bytes.length > limit || bytes.length === 0) return undefined;
  // Only printable ASCII and newlines: any other byte (UTF-8 or not, a byte order
  // mark, a control character, a tab, a carriage return) takes the full path.
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b > 0x7e || (b < 0x20 && b !== 0x0a)) return undefined;
  }
  return read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}
