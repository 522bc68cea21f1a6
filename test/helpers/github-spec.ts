import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../src/util/package-root.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

export type Description = { name: string; paths: Record<string, Record<string, Operation>> };

/** A vendored cut of GitHub's published description: api.github.com, or an Enterprise Server version. */
export function description(name: 'api.github.com' | 'ghes-3.17' | 'ghes-3.19'): Description {
  const file = name === 'api.github.com' ? 'github-rest-subset.json' : `github-${name}-subset.json`;
  const parsed = JSON.parse(
    readFileSync(join(packageRoot(), 'test', 'fixtures', file), 'utf8'),
  ) as Description;
  return { name, paths: parsed.paths };
}

const spec = description('api.github.com');
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

/**
 * Checks a test server's response against GitHub's published REST description:
 * the status must be one the operation lists, and the body must match its schema.
 * Throws with what is wrong, so a test server cannot drift from the real API.
 */
export function checkResponse(
  method: string,
  template: string,
  status: number,
  body: unknown,
  against: Description = spec,
): void {
  const operation = against.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the GitHub description`);
  const response = operation.responses[String(status)];
  if (!response)
    throw new Error(
      `${method} ${template} never answers ${status} (it answers ${Object.keys(operation.responses).join(', ')})`,
    );
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return;
  const key = `${against.name} ${method} ${template} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(schema) as object);
    compiled.set(key, validate);
  }
  if (!validate(body)) throw new Error(`${key}: ${ajv.errorsText(validate.errors)}`);
}

/** OpenAPI 3.0's `nullable: true` is JSON Schema's "or null"; ajv needs it spelled out where there is no `type`. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, k === 'example' || k === 'examples' ? v : toJsonSchema(v)]),
  );
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

type Schema = {
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};

/**
 * A placeholder body for an operation's response: every required field filled
 * from its schema. Test servers put the fields that matter on top, and every
 * response is still checked against the description before it is sent.
 */
export function sampleResponse(method: string, template: string, status: number): Record<string, unknown> {
  const schema =
    spec.paths[template]?.[method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']
      ?.schema;
  return sample((schema ?? {}) as Schema) as Record<string, unknown>;
}

/** A sample of one item of a list response: the required fields, each of its type. */
export function sampleItem(method: string, template: string, status: number): Record<string, unknown> {
  const schema =
    spec.paths[template]?.[method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']
      ?.schema;
  return sample(((schema as Schema | undefined)?.items ?? {}) as Schema) as Record<string, unknown>;
}

function sample(schema: Schema): unknown {
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map(sample));
  if (schema.oneOf?.[0]) return sample(schema.oneOf[0]);
  if (schema.anyOf?.[0]) return sample(schema.anyOf[0]);
  if (schema.nullable) return null;
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((key) => [key, sample(schema.properties?.[key] ?? {})]),
      );
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return '2026-11-27T10:00:00Z';
      if (schema.format === 'uri') return 'https://example.com/';
      return 'x';
    default:
      return schema.properties ? sample({ ...schema, type: 'object' }) : null;
  }
}

interface RequestOperation {
  parameters?: { name: string; in: string; required?: boolean; schema?: object }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> };
}
const compiledRequests = new Map<string, ValidateFunction>();

/**
 * Checks a request against GitHub's published description, as a validating
 * proxy would: the operation exists, required query parameters are present
 * and every known one matches its schema, and the JSON body matches the
 * operation's request schema. Throws with what is wrong.
 */
export function checkRequest(
  method: string,
  template: string,
  query: URLSearchParams,
  body: string,
  against: Description = spec,
): void {
  const operation = against.paths[template]?.[method.toLowerCase()] as RequestOperation | undefined;
  if (!operation) throw new Error(`${method} ${template} is not in the GitHub description`);
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'query') continue;
    const value = query.get(parameter.name);
    if (value === null) {
      if (parameter.required)
        throw new Error(`${method} ${template}: missing query parameter ${parameter.name}`);
      continue;
    }
    const schema = parameter.schema as { type?: string; enum?: unknown[] } | undefined;
    const typed =
      schema?.type === 'integer' || schema?.type === 'number'
        ? Number(value)
        : schema?.type === 'boolean'
          ? value === 'true'
          : value;
    const key = `query ${against.name} ${method} ${template} ${parameter.name}`;
    let validate = compiledRequests.get(key);
    if (!validate) {
      validate = ajv.compile(toJsonSchema(schema ?? {}) as object);
      compiledRequests.set(key, validate);
    }
    if (!validate(typed))
      throw new Error(
        `${method} ${template}: query ${parameter.name}=${value}: ${ajv.errorsText(validate.errors)}`,
      );
  }
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  if (!schema) return;
  if (!body) {
    if (operation.requestBody?.required)
      throw new Error(`${method} ${template}: the request needs a JSON body`);
    return;
  }
  const key = `body ${against.name} ${method} ${template}`;
  let validate = compiledRequests.get(key);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(schema) as object);
    compiledRequests.set(key, validate);
  }
  if (!validate(JSON.parse(body)))
    throw new Error(`${method} ${template} request: ${ajv.errorsText(validate.errors)}`);
}
