import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

/** A botocore shape: structures, lists, maps and scalars with their constraints. */
interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double';
  members?: Record<string, { shape: string; location?: string; locationName?: string }>;
  required?: string[];
  union?: boolean;
  document?: boolean;
  exception?: boolean;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

interface Operation {
  name: string;
  input: { shape: string };
  output?: { shape: string };
  errors: { shape: string }[];
}

export type ServiceName = 'identitystore' | 'sso-admin';

/**
 * One service's published model (botocore's service-2.json and
 * paginators-1.json, cut to the operations iden uses, and the HTTP status of
 * each error from AWS's Smithy model), and a checker that walks a value
 * against a shape the way AWS's front end validates: types, required members,
 * unions, enums, lengths, patterns and ranges. Unknown members are refused
 * too, so a client that misspells one is caught.
 */
export class ServiceModel {
  readonly targetPrefix: string;
  readonly signingName: string;
  readonly operations: Record<string, Operation>;
  readonly paginators: Record<
    string,
    { input_token: string; output_token: string; limit_key: string; result_key: string }
  >;
  readonly errors: Record<string, { status: number; kind: string; header?: Record<string, string> }>;
  private readonly shapes: Record<string, Shape>;
  private readonly patterns = new Map<string, RegExp>();

  constructor(readonly name: ServiceName) {
    const dir = join(packageRoot(), 'test', 'fixtures', 'aws-identity-center');
    const model = JSON.parse(readFileSync(join(dir, `${name}-service-2.subset.json`), 'utf8'));
    this.targetPrefix = model.metadata.targetPrefix;
    this.signingName = model.metadata.signingName;
    this.operations = model.operations;
    this.shapes = model.shapes;
    this.paginators = JSON.parse(
      readFileSync(join(dir, `${name}-paginators-1.subset.json`), 'utf8'),
    ).pagination;
    this.errors = JSON.parse(readFileSync(join(dir, 'smithy-errors.json'), 'utf8'))[name];
  }

  /** What is wrong with `value` as the shape named; empty when nothing is. */
  check(shapeName: string, value: unknown, path = '$', skip: ReadonlySet<string> = new Set()): string[] {
    const shape = this.shapes[shapeName];
    if (!shape) return [`${path}: unknown shape ${shapeName}`];
    if (shape.document) return [];
    const problems: string[] = [];
    const bad = (text: string) => problems.push(`${path}: ${text} (${shapeName})`);
    switch (shape.type) {
      case 'structure': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          bad('must be an object');
          break;
        }
        const record = value as Record<string, unknown>;
        const members = shape.members ?? {};
        for (const key of Object.keys(record)) if (!(key in members)) bad(`unknown member ${key}`);
        for (const key of shape.required ?? [])
          if (!skip.has(key) && record[key] === undefined) bad(`missing required member ${key}`);
        const set = Object.keys(record).filter((k) => record[k] !== undefined && record[k] !== null);
        if (shape.union && set.length !== 1) bad(`a union must set exactly one member, not ${set.length}`);
        for (const key of set)
          if (members[key]) problems.push(...this.check(members[key].shape, record[key], `${path}.${key}`));
        break;
      }
      case 'list':
        if (!Array.isArray(value)) {
          bad('must be an array');
          break;
        }
        this.range(value.length, shape, bad, 'items');
        for (const [i, item] of value.entries())
          problems.push(...this.check(shape.member!.shape, item, `${path}[${i}]`));
        break;
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          bad('must be an object');
          break;
        }
        for (const [k, v] of Object.entries(value)) {
          problems.push(...this.check(shape.key!.shape, k, `${path}{${k}}`));
          problems.push(...this.check(shape.value!.shape, v, `${path}.${k}`));
        }
        break;
      case 'string':
        if (typeof value !== 'string') {
          bad('must be a string');
          break;
        }
        this.range([...value].length, shape, bad, 'characters');
        if (shape.enum && !shape.enum.includes(value))
          bad(`${JSON.stringify(value)} is not one of ${shape.enum.join(', ')}`);
        if (shape.pattern && !this.regex(shape.pattern).test(value))
          bad(`${JSON.stringify(value)} does not match ${shape.pattern}`);
        break;
      case 'integer':
      case 'long':
        if (!Number.isInteger(value)) bad('must be an integer');
        else this.range(value as number, shape, bad, '');
        break;
      case 'double':
        if (typeof value !== 'number') bad('must be a number');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') bad('must be a boolean');
        break;
      case 'timestamp':
        // awsJson1_1 sends timestamps as epoch seconds.
        if (typeof value !== 'number') bad('must be epoch seconds');
        break;
    }
    return problems;
  }

  private range(n: number, shape: Shape, bad: (t: string) => void, unit: string): void {
    if (shape.min !== undefined && n < shape.min)
      bad(`${n} ${unit} is below the minimum ${shape.min}`.replace('  ', ' '));
    if (shape.max !== undefined && n > shape.max)
      bad(`${n} ${unit} is above the maximum ${shape.max}`.replace('  ', ' '));
  }

  /** Smithy and botocore patterns are not anchored; \p{…} classes need the u flag where they appear. */
  private regex(pattern: string): RegExp {
    let compiled = this.patterns.get(pattern);
    if (!compiled) {
      try {
        compiled = new RegExp(pattern, 'u');
      } catch {
        compiled = new RegExp(pattern);
      }
      this.patterns.set(pattern, compiled);
    }
    return compiled;
  }

  /** The members of an error shape bound to HTTP headers (identitystore's RetryAfterSeconds). */
  headerMembers(error: string): Set<string> {
    return new Set(Object.keys(this.errors[error]?.header ?? {}));
  }
}
