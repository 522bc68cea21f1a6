import type { Change } from '../types.js';
import type { OktaEntitlement, OktaLicense } from './settings.generated.js';

export type ProfileValue = string | number | boolean;

/** An entitlement or tier as the connector reads it: what in Okta gives it. */
export interface Mapping {
  id: string;
  license: boolean;
  kind: 'group' | 'app' | 'role';
  group?: { name?: string; id?: string };
  app?: { label?: string; id?: string };
  profile?: Record<string, ProfileValue>;
  role?: string;
}

/** A mapping's key among the app's: entitlements and tiers may share an id. */
export const keyOf = (m: { id: string; license: boolean }) => `${m.license ? 'l' : 'e'}:${m.id}`;
export const changeKey = (c: Change) =>
  c.license !== undefined ? `l:${c.license}` : `e:${c.entitlement ?? ''}`;

/** What a mapping gives, as a Held's or a Change's target. */
export function targetOf(m: Mapping): { entitlement: string } | { license: string } {
  return m.license ? { license: m.id } : { entitlement: m.id };
}

function where(e: {
  group?: string | undefined;
  groupId?: string | undefined;
  app?: string | undefined;
  appId?: string | undefined;
}) {
  return {
    ...(e.group !== undefined || e.groupId !== undefined
      ? {
          group: {
            ...(e.group !== undefined ? { name: e.group } : {}),
            ...(e.groupId !== undefined ? { id: e.groupId } : {}),
          },
        }
      : {}),
    ...(e.app !== undefined || e.appId !== undefined
      ? {
          app: {
            ...(e.app !== undefined ? { label: e.app } : {}),
            ...(e.appId !== undefined ? { id: e.appId } : {}),
          },
        }
      : {}),
  };
}

/** The app's entitlements and tiers as mappings. */
export function mappingsOf(entitlements: OktaEntitlement[], licenses: OktaLicense[]): Mapping[] {
  return [
    ...entitlements.map(
      (e): Mapping => ({
        id: e.id,
        license: false,
        kind: e.kind,
        ...where(e),
        ...(e.profile ? { profile: e.profile } : {}),
        ...(e.role ? { role: e.role } : {}),
      }),
    ),
    ...licenses.map(
      (l): Mapping => ({
        id: l.id,
        license: true,
        kind: l.app !== undefined || l.appId !== undefined ? 'app' : 'group',
        ...where(l),
        ...(l.profile ? { profile: l.profile } : {}),
      }),
    ),
  ];
}

/**
 * The OAuth scopes the app's mappings need, least first: reads alone for a
 * plan, and with the manage scopes for an apply. okta.users.read finds the
 * people a grant names (and the logins of admin-role holders).
 */
export function scopesFor(mappings: readonly Mapping[]): { read: string[]; write: string[] } {
  const kinds = new Set(mappings.map((m) => m.kind));
  const read: string[] = [];
  const manage: string[] = [];
  if (kinds.has('group')) {
    read.push('okta.groups.read');
    manage.push('okta.groups.manage');
  }
  if (kinds.has('app')) {
    read.push('okta.apps.read');
    manage.push('okta.apps.manage');
  }
  if (kinds.has('role')) {
    read.push('okta.roles.read', 'okta.users.read');
    manage.push('okta.roles.manage');
  }
  const write = [...new Set([...read, 'okta.users.read', ...manage])];
  return { read, write };
}

/** Whether an app assignment's profile carries every value of a mapping (a list attribute: contains it). */
export function profileMatches(
  profile: Record<string, unknown> | undefined,
  wanted: Record<string, ProfileValue> | undefined,
): boolean {
  for (const [k, v] of Object.entries(wanted ?? {})) {
    const have = profile?.[k];
    if (Array.isArray(have) ? !have.includes(v) : have !== v) return false;
  }
  return true;
}

/** A stable text of a mapping's profile values, to find two mappings that cannot be told apart. */
export function profileKey(profile: Record<string, ProfileValue> | undefined): string {
  return JSON.stringify(Object.entries(profile ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}
