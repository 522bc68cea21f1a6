import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/reconcile/status.js';
import { runCli } from '../helpers/cli.js';
import { FAST, NOW, prepareDatabase, serverRepo } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';
import { writeTree } from '../helpers/repo.js';

/**
 * Everything anyone can use in an app is shown by status, not only what
 * grants give: a login made by hand inside a managed role (drift) and a group
 * role inside one (left alone), on a real PostgreSQL server.
 */
describe('iden status on a real PostgreSQL server', () => {
  let server: PostgresServer;
  beforeEach(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'warehouse2', ['wh_read', 'wh_write']);
    await prepareDatabase(server, 'sales', ['sales_read']);
  }, 60_000);
  afterEach(() => server?.stop());

  const run = (dir: string, env: NodeJS.ProcessEnv, ...args: string[]) =>
    runCli([...args, '--repo', dir, '--at', NOW], { env, retry: FAST });

  for (const prune of [true, false])
    it(`lists a login made by hand inside a managed role and a group role inside one (prune: ${prune})`, async () => {
      const { dir, env } = serverRepo(
        server,
        { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\n' },
        { prune },
      );
      expect((await run(dir, env, 'reconcile', '--yes', '--no-push')).code).toBe(0);
      // By hand, as in the issue: a login nobody granted, and a group whose members all read.
      await server.sql('CREATE ROLE mallory LOGIN; GRANT wh_write TO mallory', [], 'warehouse2');
      await server.sql('CREATE ROLE reporting NOLOGIN; GRANT wh_read TO reporting', [], 'warehouse2');

      const text = await run(dir, env, 'status', '--app', 'db');
      expect(text.code).toBe(0);
      expect(text.stdout).toBe(
        [
          `db                   ${prune ? 'pending      0 to grant, 1 to revoke' : 'drift        0 to grant, 0 to revoke'}, 1 drift, 0 held`,
          `  drift: mallory holds writer, which no grant gives; ${prune ? 'the next apply removes it' : 'kept: the app does not set prune: true'}`,
          // The role iden connects as is a member of the roles it administers: it has that access too.
          '  unmanaged: iden holds readonly, left alone by iden (the role iden connects as)',
          '  unmanaged: iden holds writer, left alone by iden (the role iden connects as)',
          '  unmanaged: reporting holds readonly, left alone by iden (a role that cannot log in: a group)',
          '',
        ].join('\n'),
      );

      const json = await run(dir, env, 'status', '--format', 'json');
      const db = (JSON.parse(json.stdout).apps as AppStatus[]).find((a) => a.app === 'db');
      expect(db).toMatchObject({
        drift: 1,
        drifted: [{ user: 'mallory', account: 'mallory', entitlement: 'writer', removed: prune }],
      });
      expect(db?.unmanaged).toContainEqual({
        account: 'reporting',
        entitlement: 'readonly',
        why: 'a role that cannot log in: a group',
      });
      // Progress lines are for a terminal only: none in JSON's stderr, nor in a captured one.
      expect(json.stderr).not.toMatch(/observing/);

      const access = await run(dir, env, 'access', '--observed', '--app', 'db', '--format', 'json');
      const view = JSON.parse(access.stdout);
      expect(view.drift).toEqual([
        expect.objectContaining({
          user: 'mallory',
          account: 'mallory',
          entitlement: 'writer',
          reason: 'drift',
        }),
      ]);
      expect(view.unmanaged).toContainEqual({
        app: 'db',
        account: 'reporting',
        entitlement: 'readonly',
        why: 'a role that cannot log in: a group',
      });

      const plan = await run(dir, env, 'plan', '--app', 'db');
      expect(plan.stdout).toMatch(
        prune
          ? /^Plan: 0 to grant, 1 to revoke \(1 drift\), 0 held, 3 unmanaged, 0 apps skipped\.$/m
          : /^Plan: 0 to grant, 0 to revoke, 0 held, 1 drift kept, 3 unmanaged, 0 apps skipped\.$/m,
      );
    }, 60_000);
});

describe('iden status with no apps', () => {
  it('says so instead of printing nothing', async () => {
    const dir = writeTree({
      'grants/_settings.yaml': 'timezone: UTC\n',
      'grants/_people.yaml': 'people:\n  - { id: alice, name: Alice, email: alice@example.com }\n',
    });
    const result = await runCli(['status', '--repo', dir, '--at', NOW]);
    expect(result.stdout).toBe('No apps yet: add one as grants/<app>/_app.yaml (docs/files.md).\n');
    expect(result.code).toBe(0);
    const json = await runCli(['status', '--repo', dir, '--at', NOW, '--format', 'json']);
    expect(JSON.parse(json.stdout).apps).toEqual([]);
  });
});
