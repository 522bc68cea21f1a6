import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export interface ParsedYaml {
  /** The document, kept so later findings can be resolved to lines. */
  doc: Document.Parsed | undefined;
  lines: LineCounter;
  /** The plain value, or undefined when the file is not a usable mapping. */
  value: Record<string, unknown> | undefined;
  diagnostics: Diagnostic[];
}
