// The `yaml` package as the oracle for iden's fast readers (fast-yaml.ts, fast-block.ts).
import { expect } from 'vitest';
import { parseDocument } from 'yaml';

/** What the `yaml` package makes of a text, with the options iden parses with; undefined when it has anything to say. */
export function yamlReference(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  return doc.toJS();
}

/**
 * Whether the fast reader takes the text; when it does, yaml reads it without a word and to
 * the same value, keys in the same order (the value is serialised and compared by later stages).
 */
export function agreesWithYaml(text: string, read: (text: string) => unknown): boolean {
  const fast = read(text);
  if (fast === undefined) return false;
  const slow = yamlReference(text);
  expect(slow, JSON.stringify(text)).toBeDefined();
  expect(fast, JSON.stringify(text)).toEqual(slow);
  expect(JSON.stringify(fast), JSON.stringify(text)).toBe(JSON.stringify(slow));
  return true;
}
