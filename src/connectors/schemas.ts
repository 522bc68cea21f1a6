import github from './github/schema.json' with { type: 'json' };
import postgres from './postgres/schema.json' with { type: 'json' };
import scim from './scim/schema.json' with { type: 'json' };

/**
 * Each connector's settings schema, by connector type. Kept apart from the
 * connector code so validation (which runs in worker threads too) does not
 * load database drivers or HTTP clients.
 */
export const connectorSchemas: Record<string, { $id: string }> = { github, postgres, scim };
