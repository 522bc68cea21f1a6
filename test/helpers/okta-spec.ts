import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../src/util/package-root.js';

type Json = Record<string, unknown>;

/** A request matched to an operation of Okta's description. */
export interface Operation {
  method: string;
  template: string;
  op: Json;
  params: Record<string, string>;
}

const pointer = (parts: string[]) =>
  `okta#/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;

/**
 * OpenAPI 3.0 schemas as ajv reads JSON Schema: `nullable` becomes "or
 * null"; a oneOf with a discriminator mapping picks its branch by the
 * discriminator (as the description means, and as a strict oneOf cannot when
 * two branches both match); a oneOf without one is read as anyOf, since
 * Okta's branches overlap (AppUserUpdateRequest: `{profile}` fits both of
 * its open objects). Example payloads are left alone.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, discriminator, oneOf, ...rest } = node as Json;
  const out: Json = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, k === 'example' || k === 'examples' ? v : toJsonSchema(v)]),
  );
  const disc = discriminator as { propertyName?: string; mapping?: Record<string, string> } | undefined;
  if (Array.isArray(oneOf) && disc?.propertyName && disc.mapping) {
    const prop = disc.propertyName;
    out.required = [...new Set([...((out.required as string[]) ?? []), prop])];
    out.properties = { ...((out.properties as Json) ?? {}), [prop]: { enum: Object.keys(disc.mapping) } };
    out.allOf = Object.entries(disc.mapping).map(([value, ref]) => ({
      if: { properties: { [prop]: { const: value } }, required: [prop] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a promise
      then: { $ref: ref },
    }));
  } else if (Array.isArray(oneOf)) out.anyOf = toJsonSchema(oneOf);
  return nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

/**
 * Okta's Management API description (the vendored subset), as a validating
 * proxy reads it: which operation a request is, whether its query and body
 * fit, which OAuth scopes it needs, and whether a response's status and
 * body are ones the operation describes.
 */
export class OktaSpec {
  private readonly doc: Json & { paths: Record<string, Record<string, Json>>; components: Json };
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { template: string; regex: RegExp; names: string[] }[];

  constructor(file = join(packageRoot(), 'test', 'fixtures', 'okta', 'okta-management-subset.json')) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Json;
    const { components, ...restDoc } = raw as { components: Json } & Json;
    const { examples, ...schemaParts } = components;
    this.doc = {
      ...(toJsonSchema(restDoc) as Json),
      components: { ...(toJsonSchema(schemaParts) as Json), examples },
    } as unknown as typeof this.doc;
    this.ajv.addSchema(this.doc, 'okta');
    // A literal segment beats a parameter: /groups/rules is not /groups/{groupId}.
    this.routes = Object.keys(this.doc.paths)
      .map((template) => ({
        template,
        regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`),
        names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
      }))
      .sort(
        (a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length,
      );
  }

  route(method: string, pathname: string): Operation | undefined {
    for (const r of this.routes) {
      const m = r.regex.exec(pathname);
      const op = m && this.doc.paths[r.template]?.[method.toLowerCase()];
      if (!m || !op) continue;
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      return { method: method.toUpperCase(), template: r.template, op, params };
    }
    return undefined;
  }

  /** The oauth2 scopes the operation's security names (any one of them suffices). */
  scopes(o: Operation): string[] {
    const security = (o.op.security ?? this.doc.security ?? []) as Record<string, string[]>[];
    return security.flatMap((s) => s.oauth2 ?? []);
  }

  private resolve<T>(node: T): T {
    const ref = (node as { $ref?: string })?.$ref;
    if (!ref) return node;
    return ref
      .slice(2)
      .split('/')
      .reduce<unknown>((n, k) => (n as Json)[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc) as T;
  }

  private validator(key: string, ref: string): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile({ $ref: ref });
      this.compiled.set(key, v);
    }
    return v;
  }

  /** Throws unless the query parameters and JSON body fit the operation. */
  checkRequest(o: Operation, query: URLSearchParams, body: string): void {
    const where = `${o.method} ${o.template}`;
    const pathItem = this.doc.paths[o.template] as Json;
    const declared = [...((pathItem.parameters as Json[]) ?? []), ...((o.op.parameters as Json[]) ?? [])].map(
      (p) => this.resolve(p) as { name: string; in: string; required?: boolean; schema?: { type?: string } },
    );
    for (const name of new Set(query.keys()))
      if (!declared.some((p) => p.in === 'query' && p.name === name))
        throw new Error(`${where}: query parameter ${name} is not in the description`);
    for (const p of declared.filter((d) => d.in === 'query')) {
      const value = query.get(p.name);
      if (value === null) {
        if (p.required) throw new Error(`${where}: missing query parameter ${p.name}`);
        continue;
      }
      const type = p.schema?.type;
      const typed =
        type === 'integer' || type === 'number'
          ? Number(value)
          : type === 'boolean'
            ? value === 'true'
              ? true
              : value === 'false'
                ? false
                : value
            : value;
      const key = `q ${where} ${p.name}`;
      let validate = this.compiled.get(key);
      if (!validate) {
        // A parameter's schema stands alone: its references point into the description.
        const rebased = JSON.stringify(p.schema ?? {}).replace(/"\$ref":"#\//g, '"$ref":"okta#/');
        validate = this.ajv.compile(JSON.parse(rebased));
        this.compiled.set(key, validate);
      }
      if (!validate(typed))
        throw new Error(`${where}: query ${p.name}=${value}: ${this.ajv.errorsText(validate.errors)}`);
    }
    const requestBody = this.resolve(o.op.requestBody as Json | undefined);
    if (!requestBody) {
      if (body) throw new Error(`${where}: a body the operation does not take`);
      return;
    }
    if (!body) {
      if (requestBody.required) throw new Error(`${where}: the request needs a JSON body`);
      return;
    }
    const ref = this.bodyPointer(o);
    const validate = this.validator(`b ${where}`, ref);
    if (!validate(JSON.parse(body)))
      throw new Error(`${where} request: ${this.ajv.errorsText(validate.errors)}`);
  }

  /** Throws unless the operation answers this status, with a body of its schema. */
  checkResponse(o: Operation, status: number, body: unknown): void {
    const where = `${o.method} ${o.template}`;
    const responses = o.op.responses as Record<string, Json>;
    if (!responses[String(status)])
      throw new Error(`${where} never answers ${status} (it answers ${Object.keys(responses).join(', ')})`);
    const { ref, parts } = this.responseRef(o, status);
    const content = (parts as Json | undefined)?.content as Record<string, { schema?: unknown }> | undefined;
    if (!content?.['application/json']?.schema) {
      if (body !== undefined) throw new Error(`${where} ${status} has no body in the description`);
      return;
    }
    const validate = this.validator(`r ${where} ${status}`, ref);
    if (!validate(body)) throw new Error(`${where} ${status}: ${this.ajv.errorsText(validate.errors)}`);
  }

  /** Throws unless the value fits a component schema (the Error of answers the operations do not list). */
  checkComponent(name: string, value: unknown): void {
    const validate = this.validator(`c ${name}`, `okta#/components/schemas/${name}`);
    if (!validate(value)) throw new Error(`${name}: ${this.ajv.errorsText(validate.errors)}`);
  }

  private responseRef(o: Operation, status: number): { ref: string; parts: unknown } {
    const raw = (o.op.responses as Record<string, Json>)[String(status)]!;
    if (typeof raw.$ref === 'string') {
      const name = raw.$ref.split('/').pop()!;
      return {
        ref: pointer(['components', 'responses', name, 'content', 'application/json', 'schema']),
        parts: this.resolve(raw),
      };
    }
    return {
      ref: pointer([
        'paths',
        o.template,
        o.method.toLowerCase(),
        'responses',
        String(status),
        'content',
        'application/json',
        'schema',
      ]),
      parts: raw,
    };
  }

  private bodyPointer(o: Operation): string {
    const raw = o.op.requestBody as Json;
    if (typeof raw.$ref === 'string')
      return pointer([
        'components',
        'requestBodies',
        raw.$ref.split('/').pop()!,
        'content',
        'application/json',
        'schema',
      ]);
    return pointer([
      'paths',
      o.template,
      o.method.toLowerCase(),
      'requestBody',
      'content',
      'application/json',
      'schema',
    ]);
  }
}
