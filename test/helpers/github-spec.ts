import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../src/util/package-root.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

const spec = JSON.parse(
  readFileSync(join(packageRoot(), 'test', 'fixtures', 'github-rest-subset.json'), 'utf8'),
) as {
  paths: Record<string, Record<string, Operation>>;
};
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

/**
 * Checks a test server's response against GitHub's published REST description:
 * the status must be one the operation lists, and the body must match its schema.
 * Throws with what is wrong, so a test server cannot drift from the real API.
 */
export function checkResponse(method: string, template: string, status: number, body: unknown): void {
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the GitHub description`);
  const response = operation.responses[String(status)];
  if (!response)
    throw new Error(
      `${method} ${template} never answers ${status} (it answers ${Object.keys(operation.responses).join(', ')})`,
    );
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return;
  const key = `${method} ${template} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  if (!validate(body)) throw new Error(`${key}: ${ajv.errorsText(validate.errors)}`);
}
