import type { Diagnostic } from '../diagnostics.js';
import { checkSchema, type FileKind } from '../schema/check.js';
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
): LoadedFile {
  let parsed: ParsedYaml;
  const limit = kind === 'grant' ? GRANT_FILE_LIMIT : OTHER_FILE_LIMIT;
  try {
    parsed = parseYaml(file, tree.read(source, limit), limit);
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
