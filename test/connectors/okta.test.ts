import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/reconcile/plan.js';
import { commitAll } from '../helpers/git.js';
import {
  accessRepo,
  apply,
  brief,
  cli,
  crowd,
  NOW,
  okta,
  org,
  PEOPLE,
  plan,
  writes,
} from '../helpers/okta-org.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

describe('okta connector through the CLI, against an Okta test server checked against Okta’s description', () => {
  it('grants, changes, ends and revokes group memberships and app assignments, one request each', async () => {
    const o = await org();
    const { server } = o;
    try {
      const dir = accessRepo(o, {
        alice: 'permissions: [sales, sf-admin]\n',
        bob: 'permissions: [sales]\n',
        carol: 'permissions: [eng, sf-user]\nend: 2026-12-15\n',
        dan: 'permissions: [sales]\n',
      });
      const first = await plan(o, dir);
      expect(brief(first)).toEqual([
        'grant alice sales new-grant',
        'grant alice sf-admin new-grant',
        'grant carol eng new-grant',
        'grant carol sf-user new-grant',
        'grant dan sales new-grant',
      ]);
      expect(first.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['mallory eng']);
      // Observe: the group by name and the group by id (a search and a filter), the rules, each group's members, the app's users.
      expect(server.requests).toEqual([
        'GET /api/v1/groups',
        'GET /api/v1/groups',
        `GET /api/v1/groups/${o.sales.id}/users`,
        `GET /api/v1/groups/${o.eng.id}/users`,
        'GET /api/v1/groups/rules',
        'GET /api/v1/apps',
        `GET /api/v1/apps/${o.sf.id}/users`,
      ]);

      server.requests.length = 0;
      const applied = await apply(o, dir);
      expect(applied.stdout).toContain('Applied: 4 granted, 0 revoked, 0 unchanged, 1 failed.');
      expect(applied.stdout).toMatch(
        /no Okta user with login dan@example\.com in 127\.0\.0\.1:\d+: iden never creates Okta users; create the user in Okta, or give their Okta login as accounts\.okta in _people\.yaml/,
      );
      expect(applied.code).toBe(1);
      const id = (login: string) => server.user(login).id;
      // Users looked up together (one search), dan once more by login (search may lag): then one write per change.
      expect(server.requests.filter((r) => r.startsWith('GET /api/v1/users'))).toEqual([
        'GET /api/v1/users',
        'GET /api/v1/users/dan%40example.com',
      ]);
      expect(writes(server).sort()).toEqual(
        [
          `POST /api/v1/apps/${o.sf.id}/users`,
          `POST /api/v1/apps/${o.sf.id}/users`,
          `PUT /api/v1/groups/${o.eng.id}/users/${id('carol@example.com')}`,
          `PUT /api/v1/groups/${o.sales.id}/users/${id('alice@example.com')}`,
        ].sort(),
      );
      expect(server.members(o.sales)).toEqual(['alice@example.com', 'bob@example.com']);
      expect(o.sf.users.get(id('alice@example.com'))).toEqual({ scope: 'USER', profile: { role: 'Admin' } });
      expect(o.sf.users.get(id('carol@example.com'))).toEqual({ scope: 'USER', profile: { role: 'User' } });

      rmSync(`${dir}/grants/okta/dan.yaml`);
      commitAll(dir, 'dan has no Okta account');
      expect(brief(await plan(o, dir))).toEqual([]);

      // Alice moves from admin to user: one profile change, the old value gone with it.
      writeTree({ 'grants/okta/alice.yaml': 'user: alice\napp: okta\npermissions: [sales, sf-user]\n' }, dir);
      commitAll(dir, 'alice is a Salesforce user now');
      expect(brief(await plan(o, dir))).toEqual([
        'revoke alice sf-admin changed',
        'grant alice sf-user changed',
      ]);
      server.requests.length = 0;
      expect((await apply(o, dir)).stdout).toContain('Applied: 1 granted, 1 revoked, 0 unchanged, 0 failed.');
      expect(writes(server)).toEqual([`POST /api/v1/apps/${o.sf.id}/users/${id('alice@example.com')}`]);
      expect(o.sf.users.get(id('alice@example.com'))!.profile).toEqual({ role: 'User' });

      // Carol's end passes: her membership and assignment go.
      const later = '2026-12-16T09:00:00Z';
      expect(brief(await plan(o, dir, later))).toEqual([
        'revoke carol eng expired',
        'revoke carol sf-user expired',
      ]);
      server.requests.length = 0;
      expect((await apply(o, dir, later)).stdout).toContain('Applied: 0 granted, 2 revoked');
      expect(writes(server).sort()).toEqual(
        [
          `DELETE /api/v1/apps/${o.sf.id}/users/${id('carol@example.com')}`,
          `DELETE /api/v1/groups/${o.eng.id}/users/${id('carol@example.com')}`,
        ].sort(),
      );

      // Alice's grant is deleted: everything it gave goes.
      rmSync(`${dir}/grants/okta/alice.yaml`);
      commitAll(dir, 'alice leaves');
      expect(brief(await plan(o, dir, later))).toEqual([
        'revoke alice sales removed',
        'revoke alice sf-user removed',
      ]);
      expect((await apply(o, dir, later)).code).toBe(0);
      expect(server.members(o.sales)).toEqual(['bob@example.com']);
      expect(o.sf.users.size).toBe(0);

      // Mallory, added to engineering by hand, is drift: kept, until the app prunes.
      expect((await plan(o, dir, later)).drift.map((d) => `${d.user} ${d.entitlement} ${d.reason}`)).toEqual([
        'mallory eng drift',
      ]);
      writeTree({ 'grants/okta/_app.yaml': okta(o, 'prune: true\n') }, dir);
      commitAll(dir, 'prune');
      expect(brief(await plan(o, dir, later))).toEqual(['revoke mallory eng drift']);
      expect((await apply(o, dir, later)).code).toBe(0);
      expect(server.members(o.eng)).toEqual([]);
      expect(brief(await plan(o, dir, later))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('okta connector: group rules, large groups, import', () => {
  it('holds members a group rule may have added through the rule: never drift, never removed, said in a notice', async () => {
    const o = await org();
    const { server } = o;
    try {
      for (const login of ['erin@example.com', 'frank@example.com', 'gina@example.com'])
        server.addUser(login);
      const auto = server.addGroup('sales-auto');
      const erin = server.user('erin@example.com');
      const frank = server.user('frank@example.com');
      const gina = server.user('gina@example.com');
      auto.members.push(erin.id, frank.id, gina.id);
      // gina is excluded from the rule: she is in the group by hand. An inactive rule feeds nothing.
      const rule = server.addRule('Sales department', [auto], [gina]);
      server.addRule('Old sales rule', [o.sales]).status = 'INACTIVE';
      const people = `${PEOPLE}  - { id: erin, name: Erin, email: erin@example.com }
  - { id: frank, name: Frank, email: frank@example.com }
  - { id: gina, name: Gina, email: gina@example.com }
`;
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': people,
        'grants/okta/_app.yaml': okta(o, '  - { id: auto, kind: group, group: sales-auto }\nprune: true\n'),
        'grants/okta/frank.yaml': 'user: frank\napp: okta\npermissions: [auto]\n',
        'grants/okta/bob.yaml': 'user: bob\napp: okta\npermissions: [sales]\n',
        'grants/okta/mallory.yaml': 'user: mallory\napp: okta\npermissions: [eng]\n',
      });
      commitAll(dir, 'access');
      const result = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', NOW]);
      const p = JSON.parse(result.stdout) as Plan;
      // frank's grant is met through the rule; erin (no grant) is not drift; gina, excluded from the rule, is.
      expect(brief(p)).toEqual(['revoke gina auto drift']);
      expect(p.drift.map((d) => d.user)).toEqual(['gina']);
      expect(result.stderr).toContain(
        'notice: okta: group sales-auto is also fed by group rule "Sales department": its 2 members the rule may have added count as held through the rule, and iden removes none of them',
      );
      expect(result.stderr).not.toContain('Old sales rule');

      // frank's grant is deleted: the rule still feeds him, so nothing is removed.
      rmSync(`${dir}/grants/okta/frank.yaml`);
      commitAll(dir, 'frank leaves');
      expect(brief(await plan(o, dir))).toEqual(['revoke gina auto drift']);
      expect((await apply(o, dir)).code).toBe(0);
      expect(server.members(auto)).toEqual(['erin@example.com', 'frank@example.com']);
      // Okta puts anyone removed from a rule's group on its exclusions: iden removed only someone already there.
      expect(rule.exclude).toEqual([gina.id]);

      // An import writes what iden may own: not the rule's members.
      const imported = await cli(o, [
        'import',
        '--repo',
        dir,
        '--app',
        'okta',
        '--at',
        NOW,
        '--format',
        'json',
      ]);
      expect((JSON.parse(imported.stdout) as { written: string[] }).written).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('reads a group of 2,000 members in two pages; import writes their grants, then the plan is empty', async () => {
    const o = await org();
    const { server } = o;
    try {
      const staff = server.addGroup('all-staff');
      const ids = Array.from({ length: 2000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
      for (const id of ids) staff.members.push(server.addUser(`${id}@example.com`).id);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
        'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}' }\nentitlements:\n  - { id: staff, kind: group, group: all-staff }\n`,
      });
      commitAll(dir, 'no grants yet');
      const imported = await cli(o, [
        'import',
        '--repo',
        dir,
        '--app',
        'okta',
        '--at',
        NOW,
        '--format',
        'json',
      ]);
      expect((JSON.parse(imported.stdout) as { written: string[] }).written).toHaveLength(2000);
      expect(server.requests).toEqual([
        'GET /api/v1/groups',
        `GET /api/v1/groups/${staff.id}/users`,
        `GET /api/v1/groups/${staff.id}/users`,
        'GET /api/v1/groups/rules',
      ]);
      commitAll(dir, 'imported');
      server.requests.length = 0;
      const p = await plan(o, dir);
      expect(brief(p)).toEqual([]);
      expect(p.drift).toEqual([]);
      expect(server.requests).toHaveLength(4);
      const view = await cli(o, [
        'access',
        '--repo',
        dir,
        '--at',
        NOW,
        '--app',
        'okta',
        '--user',
        'p1999',
        '--observed',
        '--format',
        'json',
      ]);
      expect((JSON.parse(view.stdout) as { access: { user: string; observed?: string }[] }).access).toEqual([
        expect.objectContaining({ user: 'p1999', observed: 'in-sync' }),
      ]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('stops at the removal limits when every grant is deleted at once, and removes nobody', async () => {
    const o = await crowd(60);
    try {
      expect((await apply(o, o.dir)).code).toBe(0);
      rmSync(`${o.dir}/grants/okta`, { recursive: true });
      writeTree(
        {
          'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${o.server.url}' }\nentitlements:\n  - { id: crowd, kind: group, group: crowd }\n`,
        },
        o.dir,
      );
      commitAll(o.dir, 'everyone leaves');
      const blocked = await plan(o, o.dir);
      expect(blocked.changes).toHaveLength(60);
      expect(blocked.blocked[0]).toBe('the plan removes 60 assignments, more than limits.maxRemovals (50)');
      expect((await apply(o, o.dir)).code).not.toBe(0);
      expect(o.group.members).toHaveLength(60);
      expect(o.server.errors).toEqual([]);
    } finally {
      await o.server.stop();
    }
  });
});
