import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AccountRule } from '../model/accounts.js';
import type { Connector, ConnectorMeta } from './types.js';

/**
 * Every connector, found by its folder: a folder under src/connectors with a
 * `meta` module is a connector, and nothing else needs to name it. Its
 * drivers load only when one of its apps is opened.
 */
const here = dirname(fileURLToPath(import.meta.url));
const folders = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
// Built, the folder holds meta.js; run from source (the tests), meta.ts.
const metaOf = (name: string) =>
  pathToFileURL(join(here, name, existsSync(join(here, name, 'meta.ts')) ? 'meta.ts' : 'meta.js')).href;
const metas: ConnectorMeta[] = await Promise.all(
  folders
    .filter((name) => existsSync(join(here, name, 'meta.ts')) || existsSync(join(here, name, 'meta.js')))
    .map(async (name) => (await import(/* @vite-ignore */ metaOf(name))).default as ConnectorMeta),
);

export type Registry = Record<string, Connector>;

/** Every connector, by the `connector.type` that selects it. */
export const connectors: Registry = Object.fromEntries(
  metas.map((meta) => [
    meta.type,
    { ...meta, open: async (app, context) => (await meta.load()).open(app, context) } satisfies Connector,
  ]),
);

/** Each connector's settings schema, by type: validation loads no driver. */
export const connectorSchemas: Record<string, { $id: string }> = Object.fromEntries(
  metas.map((m) => [m.type, m.schema]),
);

/** How each connector names a person's account when _people.yaml gives none; undefined: it must be given. */
export const accountDefaults: Record<string, AccountRule | undefined> = Object.fromEntries(
  metas.map((m) => [m.type, m.accountDefault]),
);

export const connectorMetas: Record<string, ConnectorMeta> = Object.fromEntries(
  metas.map((m) => [m.type, m]),
);
