import { closeSync, openSync, readSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics.js';
import { checkSchema, type FileKind } from '../schema/check.js';
import {
  GRANT_FILE_LIMIT,
  OTHER_FILE_LIMIT,
  type ParsedYaml,
  parseYaml,
  resolveFinding,
} from './parse-yaml.js';

let scratch = Buffer.allocUnsafe(GRANT_FILE_LIMIT + 1);

/**
 * Reads at most limit + 1 bytes, so an oversized file is reported without
 * being read whole. The returned bytes are only valid until the next call.
 */
export function readCapped(path: string, limit: number): Uint8Array {
  if (scratch.length < limit + 1) scratch = Buffer.allocUnsafe(limit + 1);
  const fd = openSync(path, 'r');
  try {
    let total = 0;
    while (total <= limit) {
      const n = readSync(fd, scratch, total, limit + 1 - total, null);
      if (n === 0) break;
      total += n;
    }
    return scratch.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

export interface LoadedFile {
  file: string;
  /** The value when the file parsed and passed its schema. */
  value: Record<string, unknown> | undefined;
  /** The value whenever the file parsed to a mapping, schema-valid or not. */
  raw: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
  parsed: ParsedYaml | undefined;
}

/** Reads, parses and schema-checks one file; every failure is a diagnostic. */
export function loadFile(file: string, abs: string, kind: FileKind, keepDocument: boolean): LoadedFile {
  let parsed: ParsedYaml;
  const limit = kind === 'grant' ? GRANT_FILE_LIMIT : OTHER_FILE_LIMIT;
  try {
    parsed = parseYaml(file, readCapped(abs, limit), limit);
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
