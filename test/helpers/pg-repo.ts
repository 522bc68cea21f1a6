import pg from 'pg';
import type { Plan } from '../../src/reconcile/plan.js';
import type { RetryPolicy } from '../../src/reconcile/retry.js';
import { runCli } from './cli.js';
import { commitAll } from './git.js';
import type { PostgresServer } from './pg-server.js';
import { NO_VERIFY, writeTree } from './repo.js';

export const NOW = '2026-11-27T12:00:00Z';
/** Retries that do not make a test wait. */
export const FAST: RetryPolicy = { attempts: 3, baseMs: 1, maxMs: 5 };

/** A database with the managed group roles and a role `iden` that may create roles and administers the group roles. */
export async function prepareDatabase(
  server: PostgresServer,
  database: string,
  roles: string[],
): Promise<void> {
  await server.sql(`CREATE DATABASE ${database}`);
  for (const role of roles) await server.sql(`CREATE ROLE ${pg.escapeIdentifier(role)} NOLOGIN`);
  await server.sql(
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'iden') THEN CREATE ROLE iden LOGIN CREATEROLE; END IF; END $$`,
  );
  // PostgreSQL 16 and later require ADMIN OPTION to grant a role; it also makes iden a member of each.
  for (const role of roles) await server.sql(`GRANT ${pg.escapeIdentifier(role)} TO iden WITH ADMIN OPTION`);
}

/**
 * An access repository with two apps on the server: db (database warehouse2,
 * roles wh_read and wh_write) and db2 (database sales, role sales_read),
 * reached through DB_URL and DB2_URL.
 */
export function serverRepo(
  server: PostgresServer,
  files: Record<string, string | undefined>,
  options: { prune?: boolean } = {},
): { dir: string; env: NodeJS.ProcessEnv } {
  const tree: Record<string, string> = {
    '.gitignore': '.iden/\n',
    'grants/_settings.yaml': `timezone: UTC\n${NO_VERIFY}`,
    'grants/_people.yaml': `people:\n${['alice', 'bob', 'carol', 'dave', 'erin'].map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
    'grants/db/_app.yaml': `name: Warehouse\nconnector: { type: postgres, urlEnv: DB_URL }\nentitlements:\n  - { id: readonly, kind: role, role: wh_read }\n  - { id: writer, kind: role, role: wh_write }\nprune: ${options.prune ?? true}\n`,
    'grants/db2/_app.yaml': `name: Sales\nconnector: { type: postgres, urlEnv: DB2_URL }\nentitlements:\n  - { id: readonly, kind: role, role: sales_read }\nprune: ${options.prune ?? true}\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    if (text === undefined) delete tree[path];
    else tree[path] = text;
  }
  const dir = writeTree(tree);
  commitAll(dir, 'access');
  return { dir, env: { DB_URL: server.url('iden', 'warehouse2'), DB2_URL: server.url('iden', 'sales') } };
}

/** Reading a cluster's roles as the superuser, and running iden against it. */
export function clusterTools(server: () => PostgresServer) {
  const roles = async (name: string) =>
    (
      await server().sql<{ rolcanlogin: boolean; note: string | null }>(
        "SELECT rolcanlogin, shobj_description(oid, 'pg_authid') AS note FROM pg_roles WHERE rolname = $1",
        [name],
      )
    )[0];
  const memberOf = async (member: string) =>
    (
      await server().sql<{ grp: string }>(
        'SELECT g.rolname AS grp FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE m.rolname = $1 ORDER BY 1',
        [member],
      )
    ).map((r) => r.grp);
  const reconcile = (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) =>
    runCli(['reconcile', '--repo', dir, '--yes', '--no-push', '--at', NOW, ...extra], { env, retry: FAST });
  const plan = async (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) => {
    const out = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', NOW, ...extra], {
      env,
      retry: FAST,
    });
    return Object.assign(JSON.parse(out.stdout) as Plan, { stderr: out.stderr });
  };
  const brief = (p: Plan) =>
    p.changes.map((c) => `${c.action} ${c.user} ${c.app} ${c.entitlement} ${c.reason}`);
  return { roles, memberOf, reconcile, plan, brief };
}
