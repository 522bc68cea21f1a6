import type { ConnectorRule, RuleFinding } from '../types.js';

/** PostgreSQL cuts identifiers at 63 bytes: a longer name would silently name another role. */
const NAMEDATALEN = 63;

interface Mapping {
  role: string;
  path: (string | number)[];
  /** The team's explicit choice to map a role that hands over more than access. */
  allowUnsafe: boolean;
}

function roles(raw: Record<string, unknown>): Mapping[] {
  const out: Mapping[] = [];
  for (const list of ['entitlements', 'licenses'] as const) {
    const items = raw[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      const { role, allowUnsafeRole } = (item ?? {}) as { role?: unknown; allowUnsafeRole?: unknown };
      if (typeof role === 'string')
        out.push({ role, path: [list, i, 'role'], allowUnsafe: allowUnsafeRole === true });
    });
  }
  return out;
}

const bytes = (name: string) => Buffer.byteLength(name, 'utf8');

/** Role names and accounts over 63 bytes are refused where they are written, never truncated into a collision. */
export const nameLength: ConnectorRule = (app) => {
  const findings: RuleFinding[] = [];
  for (const { role, path } of roles(app.raw)) {
    if (bytes(role) <= NAMEDATALEN) continue;
    findings.push({
      file: app.file,
      code: 'name-too-long',
      message: `role "${role}" is ${bytes(role)} bytes in UTF-8; PostgreSQL cuts names at ${NAMEDATALEN} bytes, so it would name another role: shorten it`,
      path,
    });
  }
  for (const grant of app.grants) {
    if (grant.account === undefined || bytes(grant.account) <= NAMEDATALEN) continue;
    findings.push({
      file: grant.file,
      code: 'name-too-long',
      message: `${grant.user}'s account in ${app.id}, "${grant.account}", is ${bytes(grant.account)} bytes in UTF-8; PostgreSQL cuts names at ${NAMEDATALEN} bytes: give a shorter one with accounts: { ${app.id}: … } in grants/_people.yaml`,
      path: ['user'],
    });
  }
  return findings;
};

/** A person's account may not be one of the app's roles: granting to it would give everyone in that role the access. */
export const accountIsRole: ConnectorRule = (app) => {
  const named = new Set(roles(app.raw).map((r) => r.role));
  return app.grants
    .filter((g) => g.account !== undefined && named.has(g.account))
    .map((g) => ({
      file: g.file,
      code: 'account-is-role' as const,
      message: `${g.user}'s account in ${app.id} is "${g.account}", a role this app maps an entitlement or tier to; granting it would give every member of that role the access: give ${g.user} an account of their own with accounts: { ${app.id}: … }`,
      path: ['user'],
    }));
};

/**
 * A mapping to a predefined role (pg_execute_server_program runs programs as
 * the server, pg_read_all_data reads everything) or to postgres, the
 * bootstrap superuser, hands over the server, not access: refused where it
 * is written unless the entitlement says allowUnsafeRole: true. What only
 * the server knows (a superuser, CREATEROLE, a login) is judged at observe.
 */
export const unsafeRole: ConnectorRule = (app) =>
  roles(app.raw)
    .filter(({ role, allowUnsafe }) => !allowUnsafe && (role.startsWith('pg_') || role === 'postgres'))
    .map(({ role, path }) => ({
      file: app.file,
      code: 'unsafe-role' as const,
      message: `role "${role}" is ${role === 'postgres' ? 'the bootstrap superuser' : "one of PostgreSQL's predefined roles"}: granting it hands over more than access. Map the entitlement to a group role made for it (GRANT what it needs to that role), or set allowUnsafeRole: true if that is really meant`,
      path,
    }));
