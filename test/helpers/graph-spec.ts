import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../src/util/package-root.js';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'query' | 'header' | 'path';
  required?: boolean;
  schema?: Json;
}
interface Operation {
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { $ref?: string; required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: Json }> }>;
}

/** Microsoft Graph v1.0's description, the subset this project vendors (test/fixtures/microsoft-graph). */
const doc = JSON.parse(
  readFileSync(join(packageRoot(), 'test/fixtures/microsoft-graph/msgraph-v1.0-subset.json'), 'utf8'),
) as { paths: Record<string, Record<string, Operation>>; components: Json };

// Graph's formats (int32, uuid, date-time…) are not checked; their patterns, which the description spells out, are.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'graph', components: doc.components });
const compiled = new Map<string, ValidateFunction>();

function validator(schema: Json): ValidateFunction {
  const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
  const key = ref ?? JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(ref ? { $ref: `graph${ref}` } : (anchored(schema) as Json));
    compiled.set(key, validate);
  }
  return validate;
}

/** An inline schema's references, pointed at the description. */
function anchored(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(anchored);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? `graph${v}` : anchored(v),
    ]),
  );
}

function resolve<T>(node: T | { $ref: string }): T {
  let value: unknown = node;
  while (value && typeof value === 'object' && '$ref' in value && typeof value.$ref === 'string') {
    const path = value.$ref.replace(/^#\//, '').split('/');
    value = path.reduce<unknown>((at, part) => (at as Json)[part], doc);
  }
  return value as T;
}

interface Route {
  template: string;
  method: string;
  operation: Operation;
  pattern: RegExp;
  names: string[];
}

// Literal segments win over parameters: /members/microsoft.graph.user is not /members/{id}.
const routes: Route[] = Object.entries(doc.paths)
  .flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, operation]) => ({
      template,
      method: method.toUpperCase(),
      operation,
      names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
      pattern: new RegExp(
        `^${template
          .split(/(\{[^}]+\})/)
          .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.$]/g, (c) => `\\${c}`)))
          .join('')}$`,
      ),
    })),
  )
  .sort((a, b) => a.names.length - b.names.length);

export interface Matched {
  template: string;
  params: Record<string, string>;
  /** The entity type a response of this operation lists or is, for $select. */
  entity: string | undefined;
}

/** The operation a request is for; undefined when the description has none. */
export function route(method: string, pathname: string): Matched | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
    return { template: r.template, params, entity: entityOf(r.operation) };
  }
  return undefined;
}

function operationOf(method: string, template: string): Operation {
  const operation = doc.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the Graph description`);
  return operation;
}

function entityOf(operation: Operation): string | undefined {
  const schema = resolve(operation.responses['2XX'] ?? {}).content?.['application/json']?.schema;
  if (!schema?.$ref) return undefined;
  const named = resolve<Json>(schema as { $ref: string });
  const items = (named.properties as Json | undefined)?.value as Json | undefined;
  const ref = ((items?.items as Json | undefined)?.$ref ?? schema.$ref) as string;
  return ref.split('/').pop();
}

/** Every property an entity type has, through its allOf chain (user: entity, directoryObject, user). */
export function propertiesOf(entity: string): Set<string> {
  const found = new Set<string>();
  const walk = (schema: Json) => {
    for (const part of (schema.allOf as Json[] | undefined) ?? []) walk(resolve(part));
    for (const name of Object.keys((schema.properties as Json | undefined) ?? {})) found.add(name);
  };
  walk(resolve({ $ref: `#/components/schemas/${entity}` }));
  return found;
}

/**
 * Checks a request as Graph's description has it: a known operation, only
 * the query options and headers it declares (plus the skip token of a page
 * Graph itself linked), each of its type, $select naming properties the
 * entity has, and the JSON body its operation takes (none where it takes
 * none). Throws with what is wrong.
 */
export function checkRequest(
  method: string,
  matched: Matched,
  query: URLSearchParams,
  headers: Record<string, string | undefined>,
  body: unknown,
): void {
  const where = `${method} ${matched.template}`;
  const operation = operationOf(method, matched.template);
  const parameters = (operation.parameters ?? []).map((p) => resolve<Parameter>(p));
  for (const key of new Set(query.keys())) {
    if (key === '$skiptoken') continue;
    const parameter = parameters.find((p) => p.in === 'query' && p.name === key);
    if (!parameter) throw new Error(`${where}: the query option ${key} is not one it takes`);
    const schema = parameter.schema ?? {};
    const text = query.get(key)!;
    const value =
      key === '$expand'
        ? expansions(text)
        : schema.type === 'array'
          ? text.split(',')
          : schema.type === 'integer'
            ? Number(text)
            : schema.type === 'boolean'
              ? text === 'true'
                ? true
                : text === 'false'
                  ? false
                  : text
              : text;
    const validate = validator(schema);
    if (!validate(value)) throw new Error(`${where}: ${key}=${text}: ${ajv.errorsText(validate.errors)}`);
    if (key === '$select' && matched.entity) {
      const known = propertiesOf(matched.entity);
      const unknown = (value as string[]).filter((name) => !known.has(name));
      if (unknown.length > 0)
        throw new Error(`${where}: $select names ${unknown.join(', ')}, not properties of ${matched.entity}`);
    }
  }
  if (query.has('$expand') && matched.entity) checkExpand(where, matched.entity, query.get('$expand')!);
  for (const parameter of parameters)
    if (parameter.required && parameter.in === 'query' && !query.has(parameter.name))
      throw new Error(`${where}: missing the query option ${parameter.name}`);
  if (headers.consistencylevel !== undefined && !parameters.some((p) => p.name === 'ConsistencyLevel'))
    throw new Error(`${where}: it takes no ConsistencyLevel header`);
  const requestBody = operation.requestBody ? resolve(operation.requestBody) : undefined;
  if (!requestBody) {
    if (body !== undefined) throw new Error(`${where}: it takes no body`);
    return;
  }
  if (body === undefined) {
    if (requestBody.required) throw new Error(`${where}: it needs a JSON body`);
    return;
  }
  const schema = requestBody.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${where}: it takes no JSON body`);
  const validate = validator(schema);
  if (!validate(body)) throw new Error(`${where} request body: ${ajv.errorsText(validate.errors)}`);
}

/** `manager($select=id,mail),memberOf`: the expansions, split at the commas outside parentheses. */
function expansions(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let at = 0;
  for (const [i, c] of [...text].entries()) {
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(at, i));
      at = i + 1;
    }
  }
  return [...out, text.slice(at)];
}

/**
 * Each expansion names a relation of the entity (a property typed by a
 * reference), with at most a $select inside naming properties of its type,
 * or of a user where the relation is a directoryObject (Graph selects the
 * object's own type's properties: a manager is a user).
 */
function checkExpand(where: string, entity: string, text: string): void {
  const properties = resolve<Json>({ $ref: `#/components/schemas/${entity}` });
  for (const expansion of expansions(text)) {
    const m = /^(\w+)(?:\((.*)\))?$/.exec(expansion);
    if (!m) throw new Error(`${where}: $expand ${expansion} is not an expansion`);
    const [, name, options] = m;
    const property = relationOf(properties, name!);
    if (!property) throw new Error(`${where}: $expand names ${name}, not a relation of ${entity}`);
    if (options === undefined) continue;
    const select = /^\$select=([\w,]+)$/.exec(options);
    if (!select) throw new Error(`${where}: $expand ${name}(${options}): only $select is checked inside`);
    const target = property.split('/').pop()!;
    const known = new Set([
      ...propertiesOf(target),
      ...(target === 'microsoft.graph.directoryObject' ? propertiesOf('microsoft.graph.user') : []),
    ]);
    const unknown = select[1]!.split(',').filter((n) => !known.has(n));
    if (unknown.length > 0)
      throw new Error(`${where}: $expand ${name} selects ${unknown.join(', ')}, not properties of ${target}`);
  }
}

/** The type a relation of an entity refers to, through its allOf chain; undefined when it is none. */
function relationOf(schema: Json, name: string): string | undefined {
  for (const part of (schema.allOf as Json[] | undefined) ?? []) {
    const found = relationOf(resolve(part), name);
    if (found) return found;
  }
  const property = (schema.properties as Json | undefined)?.[name] as Json | undefined;
  const ref = property?.$ref ?? ((property?.anyOf as Json[] | undefined) ?? []).find((p) => p.$ref)?.$ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** Checks a response: a status the operation lists (ranges such as 2XX included) and a body of its schema. */
export function checkResponse(method: string, template: string, status: number, body: unknown): void {
  const where = `${method} ${template} ${status}`;
  const operation = operationOf(method, template);
  const declared =
    operation.responses[String(status)] ??
    operation.responses[`${String(status)[0]}XX`] ??
    operation.responses.default;
  if (!declared) throw new Error(`${where}: a status the operation does not list`);
  const schema = resolve(declared).content?.['application/json']?.schema;
  if (!schema) {
    if (body !== undefined)
      throw new Error(`${where}: the response has a body the description does not give it`);
    return;
  }
  const validate = validator(schema);
  if (!validate(body)) throw new Error(`${where} response: ${ajv.errorsText(validate.errors)}`);
}

/**
 * Graph's JSON batching envelope (learn.microsoft.com/graph/json-batching):
 * not in the OpenAPI description, so written here from the documentation.
 */
const batchRequest = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['requests'],
  properties: {
    requests: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'method', 'url'],
        properties: {
          id: { type: 'string', minLength: 1 },
          method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
          url: { type: 'string', pattern: '^/?(?!v1\\.0/|beta/|https?:)' },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          body: {},
          dependsOn: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
});
const batchResponse = ajv.compile({
  type: 'object',
  required: ['responses'],
  properties: {
    responses: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'status'],
        properties: {
          id: { type: 'string' },
          status: { type: 'integer' },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          body: {},
        },
      },
    },
  },
});

export interface InnerRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Checks a $batch body: at most 20 requests, unique ids, relative URLs, a Content-Type with every body. */
export function checkBatchRequest(body: unknown): InnerRequest[] {
  if (!batchRequest(body))
    throw new Error(`POST /$batch request body: ${ajv.errorsText(batchRequest.errors)}`);
  const requests = (body as { requests: InnerRequest[] }).requests;
  const ids = new Set(requests.map((r) => r.id));
  if (ids.size !== requests.length) throw new Error('POST /$batch: request ids are not unique');
  for (const r of requests) {
    const type = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    if (r.body !== undefined && !/^application\/json/i.test(type ?? ''))
      throw new Error(`POST /$batch: request ${r.id} has a body but no Content-Type: application/json`);
  }
  return requests;
}

export function checkBatchResponse(body: unknown): void {
  if (!batchResponse(body)) throw new Error(`POST /$batch response: ${ajv.errorsText(batchResponse.errors)}`);
}
