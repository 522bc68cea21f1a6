import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script, run by hand to regenerate the types
import { generateConnectorTypes } from '../../scripts/gen-types.mjs';
import { accountDefaults, connectorSchemas, connectors } from '../../src/connectors/catalog.js';
import { packageRoot } from '../../src/util/package-root.js';

const dir = join(packageRoot(), 'src/connectors');
const folders = readdirSync(dir).filter((name) => statSync(join(dir, name)).isDirectory());

describe('the connector registry', () => {
  it('registers exactly the connector folders, each with its meta, code, schema and readme', () => {
    expect(Object.keys(connectors).sort()).toEqual(folders.sort());
    expect(Object.keys(connectorSchemas).sort()).toEqual(folders.sort());
    for (const name of folders) {
      expect(connectors[name]!.type).toBe(name);
      expect(readdirSync(join(dir, name))).toEqual(
        expect.arrayContaining(['meta.ts', 'index.ts', 'schema.json', 'README.md']),
      );
      expect(accountDefaults[name]).toBe(connectors[name]!.accountDefault);
    }
  });

  it.each(folders)('%s has settings types generated from its schema', async (name) => {
    expect(readFileSync(join(dir, name, 'settings.generated.ts'), 'utf8')).toBe(
      await generateConnectorTypes(name),
    );
  });
});
