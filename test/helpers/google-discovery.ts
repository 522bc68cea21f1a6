import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../src/util/package-root.js';

/** A Google API Discovery document's parameter (a query or path parameter). */
export interface Parameter {
  type?: string;
  location?: string;
  required?: boolean;
  repeated?: boolean;
  enum?: string[];
  pattern?: string;
  minimum?: string;
  maximum?: string;
  format?: string;
}

/** A schema of a Discovery document: JSON-Schema-like, `$ref` naming a schema by id. */
export interface DiscoverySchema {
  type?: string;
  format?: string;
  $ref?: string;
  properties?: Record<string, DiscoverySchema>;
  items?: DiscoverySchema;
  additionalProperties?: DiscoverySchema;
  enum?: string[];
  minimum?: string;
  maximum?: string;
  annotations?: { required?: string[] };
}

export interface Method {
  id: string;
  httpMethod: string;
  path: string;
  flatPath?: string;
  parameters?: Record<string, Parameter>;
  request?: { $ref: string };
  response?: { $ref: string };
  scopes?: string[];
}

interface Document {
  id: string;
  rootUrl: string;
  servicePath: string;
  batchPath: string;
  parameters: Record<string, Parameter>;
  schemas: Record<string, DiscoverySchema>;
  resources: Record<string, Resource>;
}
interface Resource {
  methods?: Record<string, Method>;
  resources?: Record<string, Resource>;
}

type JsonSchema = Record<string, unknown>;

/** Formats Google writes as strings with a grammar: checked as a pattern. */
const STRING_FORMATS: Record<string, string> = {
  int64: '^-?[0-9]+$',
  uint64: '^[0-9]+$',
  'date-time': '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  'google-datetime': '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  date: '^\\d{4}-\\d{2}-\\d{2}$',
  byte: '^[A-Za-z0-9+/_-]*=*$',
};

/**
 * A Discovery schema as JSON Schema for ajv: `$ref` by schema id becomes a
 * reference to its definition, 64-bit integers (strings) and dates get their
 * grammar, `type: any` allows anything, an object allows only its declared
 * properties (or its `additionalProperties` map), and a property is required
 * where its `annotations.required` names `methodId`. Pure.
 */
export function toJsonSchema(node: DiscoverySchema, methodId?: string): JsonSchema {
  if (node.$ref) return { $ref: `#/definitions/${node.$ref}` };
  const out: JsonSchema = {};
  switch (node.type) {
    case 'any':
    case undefined:
      break;
    case 'string': {
      out.type = 'string';
      const pattern = node.format ? STRING_FORMATS[node.format] : undefined;
      if (pattern) out.pattern = pattern;
      break;
    }
    case 'integer':
    case 'number':
      out.type = node.type;
      if (node.minimum !== undefined) out.minimum = Number(node.minimum);
      if (node.maximum !== undefined) out.maximum = Number(node.maximum);
      break;
    default:
      out.type = node.type;
  }
  if (node.enum) out.enum = node.enum;
  if (node.items) out.items = toJsonSchema(node.items, methodId);
  if (node.properties) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, toJsonSchema(v, methodId)]),
    );
    const required = Object.entries(node.properties)
      .filter(([, v]) => methodId !== undefined && v.annotations?.required?.includes(methodId))
      .map(([k]) => k);
    if (required.length > 0) out.required = required;
  }
  if (node.additionalProperties) out.additionalProperties = toJsonSchema(node.additionalProperties, methodId);
  else if (node.type === 'object' || node.properties) out.additionalProperties = false;
  return out;
}

/** Google's JSON error envelope, which Discovery documents do not describe. */
const ERROR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'integer' },
        message: { type: 'string' },
        status: { type: 'string' },
        errors: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['message', 'reason'],
            properties: {
              message: { type: 'string' },
              domain: { type: 'string' },
              reason: { type: 'string' },
              location: { type: 'string' },
              locationType: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const checkError = ajv.compile(ERROR_SCHEMA);

/** One API as its Discovery document describes it: its methods, and checks of requests and answers against them. */
export class Discovery {
  readonly methods: (Method & { regex: RegExp; names: string[] })[] = [];
  private readonly doc: Document;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(file: string) {
    this.doc = JSON.parse(
      readFileSync(join(packageRoot(), 'test', 'fixtures', 'google-workspace', file), 'utf8'),
    ) as Document;
    const walk = (resources: Record<string, Resource>) => {
      for (const r of Object.values(resources)) {
        for (const m of Object.values(r.methods ?? {})) this.methods.push({ ...m, ...this.route(m) });
        walk(r.resources ?? {});
      }
    };
    walk(this.doc.resources);
    // The User resource gives organizations and relations as `type: any`; its reference documents them as lists of these.
    const user = this.doc.schemas.User?.properties;
    for (const [field, item] of [
      ['organizations', 'UserOrganization'],
      ['relations', 'UserRelation'],
    ] as const)
      if (user?.[field]?.type === 'any' && this.doc.schemas[item])
        user[field] = { type: 'array', items: { $ref: item } };
  }

  get batchPath(): string {
    return `/${this.doc.servicePath}${this.doc.batchPath}`;
  }

  private route(m: Method): { regex: RegExp; names: string[] } {
    const names: string[] = [];
    const template = `/${this.doc.servicePath}${m.flatPath ?? m.path}`;
    const source = template
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{(\+?)([^}]+)\}/g, (_, plus, name) => {
        names.push(name);
        return plus ? '(.+)' : '([^/]+)';
      });
    return { regex: new RegExp(`^${source}$`), names };
  }

  /** The method an HTTP method and path call, with its path parameters decoded; the most literal one when several match. */
  match(
    httpMethod: string,
    pathname: string,
  ): { method: Method; params: Record<string, string> } | undefined {
    const found = this.methods
      .filter((m) => m.httpMethod === httpMethod && m.regex.test(pathname))
      .sort((a, b) => a.names.length - b.names.length)[0];
    if (!found) return undefined;
    const values = found.regex.exec(pathname)!.slice(1);
    return {
      method: found,
      params: Object.fromEntries(found.names.map((n, i) => [n, decodeURIComponent(values[i]!)])),
    };
  }

  /** Throws unless the call's parameters and body are what the method takes. */
  checkRequest(method: Method, params: Record<string, string>, query: URLSearchParams, body: string): void {
    const where = `${method.id}`;
    for (const [name, p] of Object.entries(method.parameters ?? {})) {
      if (p.location === 'path') {
        const value = params[name];
        if (!value) throw new Error(`${where}: path parameter ${name} is empty`);
        checkValue(where, name, p, value);
      } else if (p.required && !query.has(name)) throw new Error(`${where}: missing query parameter ${name}`);
    }
    for (const name of new Set(query.keys())) {
      const p = method.parameters?.[name] ?? this.doc.parameters[name];
      if (p?.location !== 'query') throw new Error(`${where}: unknown query parameter ${name}`);
      const values = query.getAll(name);
      if (values.length > 1 && !p.repeated) throw new Error(`${where}: ${name} given ${values.length} times`);
      for (const v of values) checkValue(where, name, p, v);
    }
    if (!method.request) {
      if (body.trim()) throw new Error(`${where}: takes no body`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new Error(`${where}: the body is not JSON`);
    }
    this.validate(`request ${method.id}`, method.request.$ref, method.id, parsed);
  }

  /** Throws unless a success answers as the method describes (200 and its schema, or 204 and nothing), or an error is Google's envelope. */
  checkResponse(method: Method, status: number, body: unknown): void {
    if (status >= 400) {
      if (!checkError(body)) throw new Error(`${method.id} ${status}: ${ajv.errorsText(checkError.errors)}`);
      if ((body as { error: { code: number } }).error.code !== status)
        throw new Error(`${method.id} ${status}: error.code differs from the status`);
      return;
    }
    if (!method.response) {
      if (status !== 204 || body !== undefined) throw new Error(`${method.id} answers 204 with no body`);
      return;
    }
    if (status !== 200) throw new Error(`${method.id} answers 200, not ${status}`);
    this.validate(`response ${method.id}`, method.response.$ref, undefined, body);
  }

  private validate(key: string, ref: string, methodId: string | undefined, value: unknown): void {
    let validate = this.compiled.get(key);
    if (!validate) {
      const definitions = Object.fromEntries(
        Object.entries(this.doc.schemas).map(([k, v]) => [k, toJsonSchema(v, methodId)]),
      );
      validate = ajv.compile({ $ref: `#/definitions/${ref}`, definitions });
      this.compiled.set(key, validate);
    }
    if (!validate(value)) throw new Error(`${key}: ${ajv.errorsText(validate.errors)}`);
  }
}

/** A parameter's value (always text on the wire) against its type, enum, pattern and bounds. */
function checkValue(where: string, name: string, p: Parameter, value: string): void {
  const bad = (why: string) => new Error(`${where}: ${name}=${value}: ${why}`);
  if (p.type === 'integer') {
    if (!/^-?\d+$/.test(value)) throw bad('not an integer');
    if (p.minimum !== undefined && Number(value) < Number(p.minimum)) throw bad(`below ${p.minimum}`);
    if (p.maximum !== undefined && Number(value) > Number(p.maximum)) throw bad(`above ${p.maximum}`);
  }
  if (p.type === 'boolean' && value !== 'true' && value !== 'false') throw bad('not true or false');
  if (p.enum && !p.enum.includes(value)) throw bad(`not one of ${p.enum.join(', ')}`);
  if (p.pattern && !new RegExp(p.pattern).test(value)) throw bad(`does not match ${p.pattern}`);
}
