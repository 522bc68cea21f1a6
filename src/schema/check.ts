import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { didYouMean, error, type Finding, type YamlPath } from '../model/diagnostics.js';
import { packageRoot } from '../util/package-root.js';
import { AJV_OPTIONS } from './options.js';

export type FileKind = 'grant' | 'app' | 'people' | 'settings';
const kinds: FileKind[] = ['grant', 'app', 'people', 'settings'];

interface Validators {
  files: Record<FileKind, ValidateFunction>;
  connectors: Map<
    string,
    { connector: ValidateFunction; entitlement: ValidateFunction; license: ValidateFunction }
  >;
}

// Built, the schemas come compiled (scripts/gen-validators.mjs writes validators.js
// beside this module): no ajv to load and nothing to compile at start. From
// source (the tests), or with IDEN_COMPILE_SCHEMAS set, they are compiled here.
const standaloneUrl = new URL('./validators.js', import.meta.url);
const standalone:
  | (Record<FileKind, ValidateFunction> & { connectors: Record<string, Connectors> })
  | undefined =
  existsSync(fileURLToPath(standaloneUrl)) && !process.env.IDEN_COMPILE_SCHEMAS
    ? await import(standaloneUrl.href)
    : undefined;
const Ajv2020 = standalone ? undefined : (await import('ajv/dist/2020.js')).Ajv2020;
// The connectors' schemas, only to compile them here: built, every connector's and its metas' modules stay unloaded.
const connectorSchemas = standalone ? undefined : (await import('../connectors/catalog.js')).connectorSchemas;

type Connectors = { connector: ValidateFunction; entitlement: ValidateFunction; license: ValidateFunction };

let validators: Validators | undefined;

/** The compiled schemas, made once per process (or worker). */
function compiled(): Validators {
  if (validators) return validators;
  if (standalone) {
    validators = {
      files: {
        grant: standalone.grant,
        app: standalone.app,
        people: standalone.people,
        settings: standalone.settings,
      },
      connectors: new Map(Object.entries(standalone.connectors)),
    };
    return validators;
  }
  validators = compileNow();
  return validators;
}

function compileNow(): Validators {
  const ajv = new Ajv2020!(AJV_OPTIONS);
  ajv.addVocabulary(['x-hint']);
  const files = {} as Record<FileKind, ValidateFunction>;
  for (const kind of kinds) {
    const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', `${kind}.schema.json`), 'utf8'));
    files[kind] = ajv.compile(schema);
  }
  const connectors: Validators['connectors'] = new Map();
  for (const [type, schema] of Object.entries(connectorSchemas!)) {
    ajv.addSchema(schema);
    const get = (def: string) => ajv.getSchema(`${schema.$id}#/$defs/${def}`)!;
    connectors.set(type, {
      connector: get('connector'),
      entitlement: get('entitlement'),
      license: get('license'),
    });
  }
  return { files, connectors };
}

export function knownConnectorTypes(): string[] {
  return [...compiled().connectors.keys()];
}

/** Checks a parsed file against its kind's schema; findings point at the offending node. */
export function checkSchema(kind: FileKind, file: string, value: unknown): Finding[] {
  const validate = compiled().files[kind];
  return validate(value) ? [] : translate(file, [], validate.errors ?? []);
}

/**
 * Checks an app's connector block and each entitlement's and tier's mapping
 * fields against the connector's own schema. Returns undefined for an
 * unknown connector type (a semantic rule reports that).
 */
export function checkConnectorSettings(
  file: string,
  app: { connector: { type: string }; entitlements: unknown[]; licenses?: unknown[] },
): Finding[] | undefined {
  const schemas = compiled().connectors.get(app.connector.type);
  if (!schemas) return undefined;
  const findings: Finding[] = [];
  if (!schemas.connector(app.connector)) {
    findings.push(...translate(file, ['connector'], schemas.connector.errors ?? []));
  }
  for (const [i, entitlement] of app.entitlements.entries()) {
    if (!schemas.entitlement(withoutRule(entitlement))) {
      findings.push(...translate(file, ['entitlements', i], schemas.entitlement.errors ?? []));
    }
  }
  for (const [i, license] of (app.licenses ?? []).entries()) {
    if (!schemas.license(withoutRule(license))) {
      findings.push(...translate(file, ['licenses', i], schemas.license.errors ?? []));
    }
  }
  return findings;
}

/** An entitlement or tier without its access rule, which app.schema.json checks: a connector's schema knows only its mapping fields. */
function withoutRule(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !('rule' in value)) return value;
  const { rule: _rule, ...rest } = value as Record<string, unknown>;
  return rest;
}

function translate(file: string, base: YamlPath, errors: ErrorObject[]): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // Branch failures inside oneOf and the "if" of if/then add noise: the
    // oneOf itself or the "then" requirement says what is wrong.
    if (e.schemaPath.includes('/oneOf/') || e.keyword === 'if') continue;
    if (e.keyword === 'propertyNames') continue;
    const path = [...base, ...pointerToPath(e.instancePath)];
    const finding = translateOne(file, path, e);
    const key = `${finding.code}|${JSON.stringify(finding.where)}|${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function translateOne(file: string, path: YamlPath, e: ErrorObject): Finding {
  const field = describe(path);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return error(
        file,
        'missing-field',
        `${field} needs the field "${String(params.missingProperty)}"`,
        path,
      );
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as object);
      const hint = didYouMean(name, known) || (known.length ? ` (allowed: ${known.join(', ')})` : '');
      return error(
        file,
        'unknown-field',
        `unknown field "${name}" in ${field}${hint}`,
        [...path, name],
        'key',
      );
    }
    case 'type':
      return error(
        file,
        'invalid-field',
        `${field} must be ${typeWord(String(params.type))}, not ${shown(e.data)}`,
        path,
      );
    case 'pattern': {
      if (params.propertyName !== undefined) {
        return error(
          file,
          'invalid-field',
          `"${String(params.propertyName)}" is not a valid app id for ${field}`,
          [...path, String(params.propertyName)],
          'key',
        );
      }
      const hint =
        typeof parent['x-hint'] === 'string' ? parent['x-hint'] : `text matching ${String(params.pattern)}`;
      return error(
        file,
        'invalid-field',
        `${shown(e.data)} is not valid for ${field}: expected ${hint}`,
        path,
      );
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : '';
      return error(
        file,
        'invalid-field',
        `${field} must be one of ${allowed.join(', ')}, not ${shown(e.data)}${hint}`,
        path,
      );
    }
    case 'const':
      return error(
        file,
        'invalid-field',
        `${field} must be ${shown(params.allowedValue)}, not ${shown(e.data)}`,
        path,
      );
    case 'uniqueItems': {
      const later = Math.max(Number(params.i), Number(params.j));
      const list = e.data as unknown[];
      return error(file, 'invalid-field', `${shown(list[later])} is listed twice in ${field}`, [
        ...path,
        later,
      ]);
    }
    case 'oneOf': {
      const branches = (e.schema as { required?: string[] }[]).map((b) => (b.required ?? []).join(' and '));
      return error(file, 'invalid-field', `${field} needs exactly one of: ${branches.join('; ')}`, path);
    }
    default:
      return error(file, 'invalid-field', `${field} ${e.message ?? 'is not valid'}`, path);
  }
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function describe(path: YamlPath): string {
  if (path.length === 0) return 'the file';
  let text = '';
  for (const step of path) text += typeof step === 'number' ? `[${step}]` : text ? `.${step}` : step;
  return `"${text}"`;
}

function typeWord(type: string): string {
  const words: Record<string, string> = {
    array: 'a list',
    object: 'a mapping',
    string: 'text',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
  };
  return type
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
