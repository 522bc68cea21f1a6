import type { AccessRepo } from '../model/repo.js';
import { type Instant, isTimeZone } from '../model/time.js';

/**
 * What every rule reads: typed views of the repository built once. Views are
 * made from the parsed values whether or not they passed their schema, with
 * each field kept only when it has the right type, so a file with a schema
 * error still gets its other problems reported in the same run.
 */
export interface RuleContext {
  repo: AccessRepo;
  /** The instant "now" for rules that look at time (expired grants, seats). */
  at: Instant;
  /** The settings' timezone when it is valid, else UTC. */
  zone: string;
  people: Map<string, PersonView>;
  apps: Map<string, AppView>;
  grants: GrantView[];
  /** Files under review (a pull request's): a finding that could name several grants names one of these. */
  blame: ReadonlySet<string>;
}

export interface PersonView {
  id: string;
  index: number;
  email: string | undefined;
  accounts: Record<string, string>;
}

export interface AppView {
  id: string;
  file: string;
  connectorType: string | undefined;
  entitlements: { id: string; index: number }[];
  licenses: { id: string; index: number; seats: number | undefined }[];
  approvers: { id: string; index: number }[];
}

export interface GrantView {
  file: string;
  folder: string;
  name: string;
  user: string;
  app: string;
  permissions: { id: string; index: number }[];
  /** The license when it is text; `hasLicense` tells absent from malformed. */
  license: string | undefined;
  hasLicense: boolean;
  start: string | undefined;
  end: string | undefined;
}

export function buildContext(
  repo: AccessRepo,
  at: Instant,
  blame: ReadonlySet<string> = new Set(),
): RuleContext {
  const zone = text(repo.settings?.raw?.timezone);
  const people = new Map<string, PersonView>();
  for (const [index, raw] of list(repo.people?.raw?.people)) {
    const id = text(field(raw, 'id'));
    if (id === undefined || people.has(id)) continue;
    const accounts = Object.fromEntries(
      Object.entries(record(field(raw, 'accounts'))).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
    people.set(id, { id, index, email: text(field(raw, 'email')), accounts });
  }
  const apps = new Map<string, AppView>();
  for (const [id, app] of repo.apps) {
    if (!app.raw) continue;
    apps.set(id, {
      id,
      file: app.file,
      connectorType: text(field(app.raw.connector, 'type')),
      entitlements: ids(app.raw.entitlements),
      licenses: list(app.raw.licenses).flatMap(([index, raw]) => {
        const tier = text(field(raw, 'id'));
        const seats = field(raw, 'seats');
        return tier === undefined
          ? []
          : [{ id: tier, index, seats: typeof seats === 'number' ? seats : undefined }];
      }),
      approvers: strings(app.raw.approvers),
    });
  }
  const grants: GrantView[] = [];
  for (const grant of repo.grants) {
    const raw = grant.raw;
    const user = text(raw?.user);
    const app = text(raw?.app);
    if (!raw || user === undefined || app === undefined) continue;
    grants.push({
      file: grant.file,
      folder: grant.folder,
      name: grant.name,
      user,
      app,
      permissions: strings(raw.permissions),
      license: text(raw.license),
      hasLicense: raw.license !== undefined && raw.license !== null,
      start: text(raw.start),
      end: text(raw.end),
    });
  }
  return { repo, at, zone: zone && isTimeZone(zone) ? zone : 'UTC', people, apps, grants, blame };
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(value: unknown): [number, unknown][] {
  return Array.isArray(value) ? [...value.entries()] : [];
}

function strings(value: unknown): { id: string; index: number }[] {
  return list(value).flatMap(([index, item]) => (typeof item === 'string' ? [{ id: item, index }] : []));
}

function ids(value: unknown): { id: string; index: number }[] {
  return list(value).flatMap(([index, item]) => {
    const id = text(field(item, 'id'));
    return id === undefined ? [] : [{ id, index }];
  });
}
