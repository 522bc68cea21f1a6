import { github } from './github/index.js';
import { postgres } from './postgres/index.js';
import { scim } from './scim/index.js';
import type { Connector } from './types.js';

/** Every connector, by the `connector.type` that selects it. A test checks this matches the folders. */
export const connectors: Record<string, Connector> = { github, postgres, scim };

export type Registry = Record<string, Connector>;
