import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script, run by hand to regenerate the types
import { generateTypes } from '../scripts/gen-types.mjs';
import { connectorSchemas } from '../src/connectors/catalog.js';
import { codes } from '../src/model/diagnostics.js';
import { packageRoot } from '../src/util/package-root.js';

const root = packageRoot();
const fileSchemas = readdirSync(join(root, 'schemas')).map((name) => [
  `schemas/${name}`,
  JSON.parse(readFileSync(join(root, 'schemas', name), 'utf8')),
]);

/** Every property schema reachable through properties, items and additionalProperties, with its path. */
function properties(schema: Record<string, unknown>, path: string): [string, Record<string, unknown>][] {
  const found: [string, Record<string, unknown>][] = [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, sub] of Object.entries(props)) {
    found.push([`${path}.${name}`, sub], ...properties(sub, `${path}.${name}`));
  }
  if (schema.items && typeof schema.items === 'object')
    found.push(...properties(schema.items as Record<string, unknown>, `${path}[]`));
  for (const def of Object.entries((schema.$defs ?? {}) as Record<string, Record<string, unknown>>)) {
    found.push(...properties(def[1], `${path}#${def[0]}`));
  }
  return found;
}

describe('schemas', () => {
  it.each([...fileSchemas, ...Object.entries(connectorSchemas)])(
    '%s is 2020-12 with $id, title and documented properties',
    (_, schema) => {
      const s = schema as Record<string, unknown>;
      expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(s.$id).toMatch(/^https:\/\//);
      expect(s.title).toBeTruthy();
      const props = properties(s, '');
      expect(props.length).toBeGreaterThan(2);
      // A property that is only a $ref is documented where it points ($defs), so one type is generated.
      const undocumented = props
        .filter(([, p]) => !(Object.keys(p).length === 1 && typeof p.$ref === 'string'))
        .filter(([, p]) => !p.description || !Array.isArray(p.examples))
        .map(([path]) => path);
      expect(undocumented).toEqual([]);
    },
  );

  it('are the source of the generated TypeScript types', async () => {
    const committed = readFileSync(join(root, 'src/model/files.generated.ts'), 'utf8');
    expect(committed).toBe(await generateTypes());
  });
});

describe('the README', () => {
  it('lists every diagnostic code in docs/diagnostics.md', () => {
    const page = readFileSync(join(root, 'docs/diagnostics.md'), 'utf8');
    const missing = Object.keys(codes).filter((code) => !page.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
