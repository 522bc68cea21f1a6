import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/cli/import.js';
import { runCli, validateJson } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { clusterTools, FAST, NOW, prepareDatabase, serverRepo } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

const importJson = async (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) => {
  const out = await runCli(['import', '--repo', dir, '--at', NOW, '--format', 'json', ...extra], {
    env,
    retry: FAST,
  });
  return { code: out.code, stderr: out.stderr, result: JSON.parse(out.stdout || '{}') as ImportResult };
};

describe('roles that hand over more than access', () => {
  it('are the validation error unsafe-role where the mapping is written, unless allowUnsafeRole says so', async () => {
    const app = (allow: string) => `name: Warehouse
connector: { type: postgres }
entitlements:
  - { id: readonly, kind: role, role: wh_read }
  - { id: shell, kind: role, role: pg_execute_server_program${allow} }
licenses:
  - { id: seat, seats: 2, role: postgres${allow} }
`;
    const tree = {
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': 'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n',
    };
    const refused = await validateJson(writeTree({ ...tree, 'grants/db/_app.yaml': app('') }));
    expect(refused.json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      'grants/db/_app.yaml:5:36 unsafe-role',
      'grants/db/_app.yaml:7:33 unsafe-role',
    ]);
    expect(refused.json.diagnostics[0]!.message).toMatch(
      /^role "pg_execute_server_program" is one of PostgreSQL's predefined roles: granting it hands over more than access/,
    );
    expect(refused.json.diagnostics[1]!.message).toMatch(/^role "postgres" is the bootstrap superuser/);
    const allowed = await validateJson(
      writeTree({ ...tree, 'grants/db/_app.yaml': app(', allowUnsafeRole: true') }),
    );
    expect(allowed.json.diagnostics).toEqual([]);
  });
});

describe('what iden owns on a real PostgreSQL server', () => {
  let server: PostgresServer;
  const { roles, memberOf, reconcile, plan, brief } = clusterTools(() => server);
  beforeEach(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'warehouse2', ['wh_read', 'wh_write']);
    await prepareDatabase(server, 'sales', ['sales_read']);
  }, 60_000);
  afterEach(() => server?.stop());

  it('never touches its own connection, a superuser or a nested group role; a login made by hand loses its drift, never its login', async () => {
    await server.sql('CREATE ROLE report LOGIN; GRANT wh_read TO report');
    await server.sql('GRANT wh_read TO postgres');
    await server.sql('CREATE ROLE "Analytics Writers" NOLOGIN; GRANT wh_write TO "Analytics Writers"');
    const { dir, env } = serverRepo(server, {
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\n',
    });
    const p = await plan(dir, env, '--app', 'db');
    expect(brief(p)).toEqual(['grant alice db readonly new-grant', 'revoke report db readonly drift']);
    const first = await reconcile(dir, env, '--app', 'db');
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(
      'notice: db: iden is a member of wh_read, wh_write but not a person iden manages (the role iden connects as): left alone',
    );
    expect(first.stderr).toContain(
      'notice: db: postgres is a member of wh_read but not a person iden manages (a superuser): left alone',
    );
    expect(first.stderr).toContain(
      'notice: db: Analytics Writers is a member of wh_write but not a person iden manages (a role that cannot log in: a group): left alone',
    );
    // alice is iden's: marked. report's access is iden's to manage, its login is not.
    expect(await roles('alice')).toEqual({ rolcanlogin: true, note: 'managed by iden' });
    expect(await roles('report')).toEqual({ rolcanlogin: true, note: null });
    expect(await memberOf('report')).toEqual([]);
    rmSync(join(dir, 'grants/db/alice.yaml'));
    commitAll(dir, 'alice leaves');
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await roles('alice')).toEqual({ rolcanlogin: false, note: 'managed by iden' });
    expect(await roles('iden')).toMatchObject({ rolcanlogin: true });
    expect(await roles('report')).toEqual({ rolcanlogin: true, note: null });
    expect(await memberOf('Analytics Writers')).toEqual(['wh_write']);
    expect(await memberOf('postgres')).toEqual(['wh_read']);
  });

  it('gives a login made by hand its roles without taking it over, and takes it over only when adopt: lists it', async () => {
    await server.sql('CREATE ROLE bob LOGIN');
    const grant = 'user: bob\napp: db\npermissions: [readonly]\n';
    const { dir, env } = serverRepo(server, { 'grants/db/bob.yaml': grant });
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await memberOf('bob')).toEqual(['wh_read']);
    expect(await roles('bob')).toEqual({ rolcanlogin: true, note: null });
    expect(brief(await plan(dir, env, '--app', 'db'))).toEqual([]);
    // The grant goes: so does the role; the login is someone else's to shut.
    rmSync(join(dir, 'grants/db/bob.yaml'));
    commitAll(dir, 'bob leaves');
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await memberOf('bob')).toEqual([]);
    expect(await roles('bob')).toEqual({ rolcanlogin: true, note: null });
    // Adopted through review, bob is iden's from its next change on: marked, and shut when his access ends.
    const app = readFileSync(join(dir, 'grants/db/_app.yaml'), 'utf8');
    writeFileSync(join(dir, 'grants/db/_app.yaml'), `${app}adopt: [bob]\n`);
    writeFileSync(join(dir, 'grants/db/bob.yaml'), grant);
    commitAll(dir, 'adopt bob');
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await roles('bob')).toEqual({ rolcanlogin: true, note: 'managed by iden' });
    rmSync(join(dir, 'grants/db/bob.yaml'));
    commitAll(dir, 'bob leaves again');
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await roles('bob')).toEqual({ rolcanlogin: false, note: 'managed by iden' });
  });

  it('skips an app whose mapped roles the server says are superusers, administrators or logins', async () => {
    await server.sql(`CREATE ROLE admins NOLOGIN CREATEROLE; CREATE ROLE root NOLOGIN SUPERUSER;
      CREATE ROLE svc LOGIN; CREATE ROLE rls NOLOGIN BYPASSRLS; CREATE ROLE sneaky NOLOGIN; GRANT postgres TO sneaky`);
    const mapping = (allow: string) =>
      `name: Risky\nconnector: { type: postgres, urlEnv: DB_URL }\nentitlements:\n${['admins', 'root', 'svc', 'rls', 'sneaky', 'iden', 'wh_read'].map((r) => `  - { id: e-${r}, kind: role, role: ${r}${r === 'wh_read' ? '' : allow} }\n`).join('')}`;
    const { dir, env } = serverRepo(server, { 'grants/db/_app.yaml': mapping('') });
    const refused = await plan(dir, env, '--app', 'db');
    expect(refused.skipped).toEqual([
      {
        app: 'db',
        error: true,
        reason:
          'cannot observe: unsafe-role: granting admins (it is a role with CREATEROLE); root (it is a superuser); svc (it is a role that can log in: a person or a service, not a group); rls (it is a role with BYPASSRLS); sneaky (its members can SET ROLE postgres, a superuser); iden (it is the role iden connects as) would hand over more than access; map the entitlement to a group role made for it, or set allowUnsafeRole: true on it if that is really meant',
      },
    ]);
    writeFileSync(join(dir, 'grants/db/_app.yaml'), mapping(', allowUnsafeRole: true'));
    commitAll(dir, 'we mean it');
    expect((await plan(dir, env, '--app', 'db')).skipped).toEqual([]);
  });

  it('grants nothing to a group, a superuser or its own connection, and never advises handing them over', async () => {
    await server.sql(`CREATE ROLE "Analysts" NOLOGIN; CREATE ROLE ann LOGIN; GRANT "Analysts" TO ann;
      CREATE ROLE lead LOGIN; CREATE ROLE deputy LOGIN; GRANT lead TO deputy; CREATE ROLE root LOGIN SUPERUSER`);
    const people = ['Analysts', 'lead', 'root', 'iden']
      .map(
        (account, i) =>
          `  - { id: p${i}, name: P${i}, email: p${i}@example.com, accounts: { db: ${account} } }\n`,
      )
      .join('');
    const { dir, env } = serverRepo(server, {
      'grants/_people.yaml': `people:\n${people}`,
      ...Object.fromEntries(
        [0, 1, 2, 3].map((i) => [`grants/db/p${i}.yaml`, `user: p${i}\napp: db\npermissions: [writer]\n`]),
      ),
    });
    const run = await reconcile(dir, env, '--app', 'db');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'the role Analysts is a role other roles are members of: a group: iden never grants to it or revokes from it',
    );
    expect(run.stdout).toContain(
      'the role lead is a role other roles are members of: a group: iden never grants to it',
    );
    expect(run.stdout).toContain('the role root is a superuser: iden never grants to it');
    expect(run.stdout).toContain('the role iden is the role iden connects as: iden never grants to it');
    expect(run.stdout).not.toContain('COMMENT ON ROLE');
    for (const role of ['Analysts', 'lead', 'root', 'ann', 'deputy'])
      expect(await memberOf(role)).not.toContain('wh_write');
    expect(await roles('Analysts')).toEqual({ rolcanlogin: false, note: null });
  });

  it('imports an existing database: grant files for its people, the rest unmatched, and --adopt hands over through review', async () => {
    await server.sql(`CREATE ROLE alice LOGIN; GRANT wh_read, wh_write TO alice;
      CREATE ROLE stranger LOGIN; GRANT wh_read TO stranger;
      CREATE ROLE "Analysts" NOLOGIN; GRANT wh_read TO "Analysts"; GRANT wh_read TO postgres`);
    const { dir, env } = serverRepo(server, {});
    const { code, result } = await importJson(dir, env, '--app', 'db', '--adopt');
    expect(code).toBe(0);
    expect(result).toEqual({
      app: 'db',
      written: ['grants/db/alice.yaml'],
      conflicts: [],
      unmatched: ['stranger'],
      peopleAdded: [],
      unowned: ['alice'],
      adopt: ['alice'],
    });
    expect(readFileSync(join(dir, 'grants/db/alice.yaml'), 'utf8')).toContain(
      'permissions: [readonly, writer]\n',
    );
    expect(readFileSync(join(dir, 'grants/db/_app.yaml'), 'utf8')).toContain('adopt:\n  - alice\n');
    // The pull request also takes writer away from her: that change, once merged, is iden's first on her role.
    writeFileSync(join(dir, 'grants/db/alice.yaml'), 'user: alice\napp: db\npermissions: [readonly]\n');
    commitAll(dir, 'import the warehouse');
    expect(brief(await plan(dir, env, '--app', 'db'))).toEqual([
      'revoke alice db writer drift',
      'revoke stranger db readonly drift',
    ]);
    expect((await reconcile(dir, env, '--app', 'db')).code).toBe(0);
    expect(await roles('alice')).toEqual({ rolcanlogin: true, note: 'managed by iden' });
    expect(await memberOf('alice')).toEqual(['wh_read']);
    // stranger is no one's, and not adopted: its access goes, its login stays, unmarked.
    expect(await roles('stranger')).toEqual({ rolcanlogin: true, note: null });
    expect(await memberOf('stranger')).toEqual([]);
    expect(await memberOf('Analysts')).toEqual(['wh_read']);
    const after = await plan(dir, env, '--app', 'db');
    expect(brief(after)).toEqual([]);
    expect(after.drift).toEqual([]);
  });
});

describe('logins made by hand in an embedded database', () => {
  it('are imported, given and relieved of roles, and never shut unless adopted', async () => {
    const dir = writeTree({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': NO_VERIFY,
      'grants/_people.yaml': 'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n',
      'grants/db/_app.yaml':
        'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\nprune: true\n',
    });
    commitAll(dir, 'db');
    const data = seedEmbedded(dir, 'db');
    const db = await PGlite.create(data);
    await db.exec(
      'CREATE ROLE db_read NOLOGIN; CREATE ROLE db_write NOLOGIN; CREATE ROLE alice LOGIN; GRANT db_read TO alice',
    );
    await db.close();
    const { result } = await importJson(dir, {}, '--app', 'db');
    expect(result.written).toEqual(['grants/db/alice.yaml']);
    expect(result.unowned).toEqual(['alice']);
    writeFileSync(join(dir, 'grants/db/alice.yaml'), 'user: alice\napp: db\npermissions: [writer]\n');
    commitAll(dir, 'alice moves to writer');
    const run = await runCli(['reconcile', '--repo', dir, '--yes', '--no-push', '--at', NOW], {
      retry: FAST,
    });
    expect(run.code).toBe(0);
    const check = await PGlite.create(data);
    try {
      const [alice] = (
        await check.query<{ canlogin: boolean; note: string | null; groups: string[] }>(
          `SELECT rolcanlogin AS canlogin, shobj_description(oid, 'pg_authid') AS note,
                  ARRAY(SELECT g.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid WHERE am.member = r.oid) AS groups
             FROM pg_roles r WHERE rolname = 'alice'`,
        )
      ).rows;
      expect(alice).toEqual({ canlogin: true, note: null, groups: ['db_write'] });
    } finally {
      await check.close();
    }
  });
});
