import type { AccountRule } from '../model/accounts.js';
import github from './github/schema.json' with { type: 'json' };
import postgres from './postgres/schema.json' with { type: 'json' };
import scim from './scim/schema.json' with { type: 'json' };

/**
 * Each connector's settings schema and how it names accounts, by connector
 * type. Kept apart from the connector code so validation (which runs in
 * worker threads too) loads no database driver or HTTP client.
 */
export const connectorSchemas: Record<string, { $id: string }> = { github, postgres, scim };

/** How each connector names a person's account when _people.yaml gives none; undefined: it must be given. */
export const accountDefaults: Record<string, AccountRule | undefined> = {
  github: 'github',
  postgres: 'id',
  scim: 'email',
};
