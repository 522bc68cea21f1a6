import type { Query } from './database.js';

/** The comment iden puts on every login role it creates or adopts: the only roles whose login it ever changes. */
export const OWNED = 'managed by iden';

/**
 * What iden needs to know of a role to decide what it may do with it, as
 * SQL columns of the role `r`. A membership counts as making `r` a group
 * unless it is the connecting role's (PostgreSQL 16 makes the creator of a
 * role its member) or gives nothing (16's INHERIT FALSE, SET FALSE).
 */
export const FACTS = `r.rolname AS name, r.rolcanlogin AS canlogin, r.rolsuper AS super, r.rolname = current_user AS me,
       shobj_description(r.oid, 'pg_authid') AS note,
       EXISTS (SELECT 1 FROM pg_auth_members x JOIN pg_roles xm ON xm.oid = x.member
                WHERE x.roleid = r.oid AND xm.rolname <> current_user
                  AND COALESCE((to_jsonb(x) ->> 'inherit_option')::boolean OR (to_jsonb(x) ->> 'set_option')::boolean, true)) AS grouped`;

export interface RoleFacts {
  name: string;
  canlogin: boolean;
  super: boolean;
  me: boolean;
  note: string | null;
  /** Other roles are members of it: whatever is granted to it, they get too. */
  grouped: boolean;
}

/**
 * What iden may do with a role as a person's account: everything with one
 * it created or adopted (`owned`: its memberships and its login); only the
 * memberships of a login role made by hand (`unowned`: never its login, never
 * its comment); nothing at all with the rest, said why.
 */
export type Standing = { kind: 'owned' } | { kind: 'unowned' } | { kind: 'untouchable'; why: string };

export function standing(
  role: RoleFacts,
  managed: ReadonlySet<string>,
  adopt: ReadonlySet<string>,
): Standing {
  if (role.me) return { kind: 'untouchable', why: 'the role iden connects as' };
  if (role.super) return { kind: 'untouchable', why: 'a superuser' };
  if (managed.has(role.name)) return { kind: 'untouchable', why: 'a managed group role' };
  if (role.grouped) return { kind: 'untouchable', why: 'a role other roles are members of: a group' };
  if (role.note === OWNED) return { kind: 'owned' };
  // A role that cannot log in is a group, unless a reviewed adopt: says it is a person's account, shut.
  if (!role.canlogin && !adopt.has(role.name))
    return { kind: 'untouchable', why: 'a role that cannot log in: a group' };
  return { kind: 'unowned' };
}

/** One role's facts, or undefined when there is no such role. */
export async function roleFacts(query: Query, name: string): Promise<RoleFacts | undefined> {
  const [row] = await query<RoleFacts>(`SELECT ${FACTS} FROM pg_roles r WHERE r.rolname = $1`, [name]);
  return row;
}

/** Every member of the managed group roles, with its facts. */
export async function members(query: Query, groups: string[]): Promise<(RoleFacts & { grp: string })[]> {
  return query<RoleFacts & { grp: string }>(
    `SELECT DISTINCT g.rolname AS grp, ${FACTS}
       FROM pg_auth_members am
       JOIN pg_roles g ON g.oid = am.roleid
       JOIN pg_roles r ON r.oid = am.member
      WHERE g.rolname = ANY($1::text[])`,
    [groups],
  );
}

/** Roles whose membership hands over the server itself (files and programs as the server's user). */
const SERVER_ROLES = new Set(['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files']);

interface Power {
  mapped: string;
  name: string;
  depth: number;
  super: boolean;
  createrole: boolean;
  bypassrls: boolean;
  replication: boolean;
  canlogin: boolean;
  me: boolean;
}

/**
 * Why granting a mapped role would hand over more than access, where the
 * server says so: it is (or, through membership, can SET ROLE to) a
 * superuser, a role with CREATEROLE, BYPASSRLS or REPLICATION, the
 * connecting role, a role that can log in (a person or a service), a
 * predefined role or `postgres`. Mapped roles that do not exist yet are not
 * judged: iden creates them NOLOGIN.
 */
export async function unsafeRoles(query: Query, roles: string[]): Promise<Map<string, string>> {
  const rows = await query<Power>(
    `WITH RECURSIVE up(mapped, oid, depth) AS (
       SELECT r.rolname, r.oid, 0 FROM pg_roles r WHERE r.rolname = ANY($1::text[])
       UNION
       SELECT up.mapped, am.roleid, up.depth + 1 FROM up JOIN pg_auth_members am ON am.member = up.oid WHERE up.depth < 16
     )
     SELECT DISTINCT up.mapped, r.rolname AS name, up.depth, r.rolsuper AS super, r.rolcreaterole AS createrole,
            r.rolbypassrls AS bypassrls, r.rolreplication AS replication, r.rolcanlogin AS canlogin,
            r.rolname = current_user AS me
       FROM up JOIN pg_roles r ON r.oid = up.oid ORDER BY up.depth`,
    [roles],
  );
  const found = new Map<string, string>();
  for (const row of rows) {
    if (found.has(row.mapped)) continue;
    const why = danger(row);
    if (why)
      found.set(
        row.mapped,
        row.depth === 0 ? `it is ${why}` : `its members can SET ROLE ${row.name}, ${why}`,
      );
  }
  return found;
}

function danger(row: Power): string | undefined {
  if (row.me) return 'the role iden connects as';
  if (row.super) return 'a superuser';
  if (row.name === 'postgres') return 'the role postgres';
  if (row.createrole) return 'a role with CREATEROLE';
  if (row.bypassrls) return 'a role with BYPASSRLS';
  if (row.replication) return 'a role with REPLICATION';
  if (SERVER_ROLES.has(row.name))
    return `${row.name}, which runs programs or reads and writes files as the server`;
  if (row.depth === 0 && row.name.startsWith('pg_')) return `the predefined role ${row.name}`;
  if (row.canlogin) return 'a role that can log in: a person or a service, not a group';
  return undefined;
}
