import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import {
  accessRepo,
  apply,
  appYaml,
  brief,
  FAST,
  google,
  NOW,
  newRepo,
  plan,
  STANDARD,
  STARTER,
} from '../helpers/google-setup.js';
import { writeTree } from '../helpers/repo.js';

describe('google-workspace connector through the CLI, against a loopback Google', () => {
  it('grants, changes, ends and revokes group roles and licence tiers, in batch requests', async () => {
    const { server, env } = await google();
    try {
      const dir = accessRepo(server, {
        alice: 'permissions: [eng-oncall, design]\nlicense: standard\n',
        bob: 'permissions: [eng-oncall-owner]\nlicense: starter\n',
        carol: 'permissions: [design]\nlicense: starter\nend: 2026-12-15\n',
      });
      expect(brief(await plan(dir, env))).toEqual([
        'grant alice design new-grant',
        'grant alice eng-oncall new-grant',
        'grant alice standard new-grant',
        'grant bob eng-oncall-owner new-grant',
        'grant bob starter new-grant',
        'grant carol design new-grant',
        'grant carol starter new-grant',
      ]);
      server.http.length = 0;
      const first = await apply(dir, env);
      expect(first.stdout).toContain('Applied: 7 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(first.code).toBe(0);
      const w = server.workspace;
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER', 'bob@acme.com OWNER']);
      expect(w.members('design@acme.com')).toEqual(['alice@acme.com MEMBER', 'carol@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STANDARD)).toEqual(['alice@acme.com']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['bob@acme.com', 'carol@acme.com']);
      // One token; the reads of both groups in one batch, the two tiers in another; then the four
      // memberships in one batch and the three licences in another.
      expect(server.http).toEqual([
        'token POST /token',
        'directory POST /batch',
        'licensing POST /batch',
        'directory POST /batch',
        'licensing POST /batch',
      ]);
      expect(brief(await plan(dir, env))).toEqual([]);

      // alice moves to Starter and leaves design; bob is no longer an owner, only a member.
      writeTree(
        {
          'grants/gws/alice.yaml': 'user: alice\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n',
          'grants/gws/bob.yaml': 'user: bob\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n',
        },
        dir,
      );
      commitAll(dir, 'alice to starter, bob steps down');
      expect(brief(await plan(dir, env))).toEqual([
        'revoke alice design changed',
        'revoke alice standard changed',
        'grant alice starter changed',
        'revoke bob eng-oncall-owner changed',
      ]);
      server.requests.length = 0;
      const changed = await apply(dir, env);
      expect(changed.stdout).toContain('Applied: 1 granted, 3 revoked, 0 unchanged, 0 failed.');
      // One reassignment of the SKU, no second licence; bob's role lowered, not his membership removed.
      expect(server.requests.filter((r) => !r.startsWith('GET'))).toEqual([
        `PATCH /apps/licensing/v1/product/Google-Apps/sku/${STANDARD}/user/alice%40acme.com`,
        'DELETE /admin/directory/v1/groups/design%40acme.com/members/alice%40acme.com',
        'PATCH /admin/directory/v1/groups/eng-oncall%40acme.com/members/bob%40acme.com',
      ]);
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER', 'bob@acme.com MEMBER']);
      expect(w.members('design@acme.com')).toEqual(['carol@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com', 'bob@acme.com', 'carol@acme.com']);
      expect(w.holders('Google-Apps', STANDARD)).toEqual([]);
      expect(brief(await plan(dir, env))).toEqual([]);

      // carol's grant ends: her group and her licence go.
      const end = '2026-12-16T00:00:00Z';
      expect(brief(await plan(dir, env, end))).toEqual([
        'revoke carol design expired',
        'revoke carol starter expired',
      ]);
      expect((await apply(dir, env, end)).code).toBe(0);
      expect(w.members('design@acme.com')).toEqual([]);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com', 'bob@acme.com']);

      // bob's grant is deleted: he leaves the group and gives his licence back.
      rmSync(join(dir, 'grants/gws/bob.yaml'));
      commitAll(dir, 'bob leaves');
      expect(brief(await plan(dir, env, end))).toEqual([
        'revoke bob eng-oncall removed',
        'revoke bob starter removed',
      ]);
      expect((await apply(dir, env, end)).code).toBe(0);
      expect(w.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(w.holders('Google-Apps', STARTER)).toEqual(['alice@acme.com']);
      expect(brief(await plan(dir, env, end))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('shows access given by hand as drift, keeps it, and with prune takes it away: a member, an owner', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      w.setMember('eng-oncall@acme.com', 'mallory@acme.com');
      w.setMember('eng-oncall@acme.com', 'dave@acme.com', 'OWNER');
      // A nested group and the whole domain: neither seen as people nor managed.
      w.setMember('design@acme.com', 'everyone@acme.com', 'MEMBER', 'GROUP');
      const dir = accessRepo(server, { dave: 'permissions: [eng-oncall]\nlicense: starter\n' });
      w.skus.get(`Google-Apps/${STARTER}`)!.holders.set('dave@acme.com', 'dave@acme.com');
      const p = await plan(dir, env);
      // dave is an owner, which includes the membership his grant gives: satisfied; the owner role is drift.
      expect(brief(p)).toEqual([]);
      expect(p.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual([
        'dave eng-oncall-owner',
        'mallory@acme.com eng-oncall',
      ]);
      const shown = await runCli(['plan', '--repo', dir, '--at', NOW], { env, retry: FAST });
      expect(shown.stderr).toContain(
        'notice: gws: design@acme.com has a member that is not a user (everyone@acme.com): who they give access to is neither seen nor managed here',
      );
      writeFileSync(join(dir, 'grants/gws/_app.yaml'), `${appYaml(server)}prune: true\n`);
      commitAll(dir, 'prune');
      expect(brief(await plan(dir, env))).toEqual([
        'revoke dave eng-oncall-owner drift',
        'revoke mallory@acme.com eng-oncall drift',
      ]);
      const run = await apply(dir, env);
      expect(run.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
      // dave keeps the membership his grant gives, as a member; mallory leaves.
      expect(w.members('eng-oncall@acme.com')).toEqual(['dave@acme.com MEMBER']);
      expect(w.members('design@acme.com')).toEqual(['everyone@acme.com MEMBER']);
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('fails only the change of a person who is not a Workspace user, or whose address is outside its domains', async () => {
    const { server, env } = await google();
    try {
      server.workspace.addUser('carol.n@acme.com');
      server.workspace.users.get('carol@acme.com')!.aliases.push('carol.n@acme.com');
      server.workspace.users.delete('carol.n@acme.com');
      const dir = accessRepo(server, {
        alice: 'permissions: [eng-oncall]\nlicense: starter\n',
        yan: 'permissions: [eng-oncall]\nlicense: starter\n',
        zed: 'permissions: [design]\nlicense: starter\n',
      });
      const run = await apply(dir, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 2 granted, 0 revoked, 0 unchanged, 4 failed.');
      expect(run.stdout).toContain(
        'adding yan@acme.com to eng-oncall@acme.com as MEMBER: yan@acme.com is not a user of the Google Workspace of app gws (Google answered 404 notFound: Resource Not Found: memberKey); iden neither creates nor deletes users',
      );
      expect(run.stdout).toContain(
        'assigning Google-Apps/1010020027 to yan@acme.com: yan@acme.com is not a user of the Google Workspace of app gws (Google answered 400 invalid: Invalid Input: userId)',
      );
      expect(run.stdout).toContain(
        'adding zed@gmail.com to design@acme.com as MEMBER: zed@gmail.com is not an address of this Google Workspace (acme.com); iden gives access only to its users',
      );
      // Nothing was asked of Google for zed.
      expect(server.requests.filter((r) => r.includes('zed'))).toEqual([]);
      expect(server.workspace.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('says when an account is an alias of the member Google added, and fails it clearly once it is', async () => {
    const { server, env } = await google();
    try {
      server.workspace.users.get('carol@acme.com')!.aliases.push('carol.n@acme.com');
      const dir = newRepo(
        {
          'grants/_people.yaml': 'people:\n  - { id: carol, name: Carol, email: carol.n@acme.com }\n',
          'grants/gws/_app.yaml': appYaml(server).replace(/licenses:[\s\S]*$/, ''),
          'grants/gws/carol.yaml': 'user: carol\napp: gws\npermissions: [design]\n',
        },
        'carol by her alias',
      );
      const first = await apply(dir, env);
      expect(first.stderr).toContain(
        'notice: gws: carol.n@acme.com is another address (an alias) of carol@acme.com, whom Google added to design@acme.com: give accounts.gws: carol@acme.com in grants/_people.yaml',
      );
      const again = await apply(dir, env);
      expect(again.stdout).toContain(
        'carol.n@acme.com is another address (an alias) of carol@acme.com, who is a member already: give accounts.gws: carol@acme.com in grants/_people.yaml',
      );
      expect(server.workspace.members('design@acme.com')).toEqual(['carol@acme.com MEMBER']);
      writeTree(
        {
          'grants/_people.yaml':
            'people:\n  - { id: carol, name: Carol, email: carol.n@acme.com, accounts: { gws: carol@acme.com } }\n',
        },
        dir,
      );
      commitAll(dir, 'carol by her primary address');
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('google-workspace connector: adoption and seats', () => {
  it('imports what the Workspace holds, after which the plan is empty', async () => {
    const { server, env } = await google();
    try {
      const w = server.workspace;
      w.setMember('eng-oncall@acme.com', 'alice@acme.com');
      w.setMember('eng-oncall@acme.com', 'bob@acme.com', 'OWNER');
      w.setMember('eng-oncall@acme.com', 'mallory@acme.com');
      w.skus.get(`Google-Apps/${STANDARD}`)!.holders.set('alice@acme.com', 'alice@acme.com');
      w.skus.get(`Google-Apps/${STARTER}`)!.holders.set('bob@acme.com', 'bob@acme.com');
      const dir = accessRepo(server, {});
      const imported = await runCli(['import', '--repo', dir, '--app', 'gws', '--format', 'json'], { env });
      expect(imported.code).toBe(0);
      const result = JSON.parse(imported.stdout) as { written: string[]; unmatched: string[] };
      expect(result.written).toEqual(['grants/gws/alice.yaml', 'grants/gws/bob.yaml']);
      expect(result.unmatched).toEqual(['mallory@acme.com']);
      expect(readFileSync(join(dir, 'grants/gws/bob.yaml'), 'utf8')).toContain(
        'permissions: [eng-oncall-owner]\nlicense: starter\n',
      );
      commitAll(dir, 'imported');
      const p = await plan(dir, env);
      expect(brief(p)).toEqual([]);
      expect(p.drift.map((d) => d.user)).toEqual(['mallory@acme.com']);
      const observed = await runCli(['access', '--repo', dir, '--at', NOW, '--observed'], { env });
      expect(observed.code).toBe(0);
      expect(observed.stdout).toMatch(/bob\s+Bob\s+gws\s+eng-oncall-owner, \(starter\)\s+active\s+in-sync/);
      expect(observed.stdout).toContain(
        'drift: mallory@acme.com holds eng-oncall in gws, which no grant gives',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('skips the app, saying why, when a group does not exist, a mapping is doubled, or tiers lack the customer', async () => {
    const { server, env } = await google();
    try {
      server.workspace.groups.delete('design@acme.com');
      const dir = accessRepo(server, {});
      const skipped = async () => (await plan(dir, env)).skipped.map((s) => s.reason);
      expect(await skipped()).toEqual([
        "cannot observe: cannot read the Google Workspace: reading the members of design@acme.com: Google answered 404 notFound: Resource Not Found: groupKey; correct the group's address, or the tier's productId and skuId, in _app.yaml",
      ]);
      server.workspace.addGroup('design@acme.com');
      writeFileSync(
        join(dir, 'grants/gws/_app.yaml'),
        appYaml(server)
          .replace('  customer: C0iden42\n', '')
          .replace(
            'entitlements:\n',
            'entitlements:\n  - { id: oncall, kind: group, group: ENG-ONCALL@acme.com }\n',
          ),
      );
      commitAll(dir, 'doubled');
      expect(await skipped()).toEqual([
        'cannot observe: entitlements oncall and eng-oncall both give the MEMBER role in eng-oncall@acme.com: each must be its own',
      ]);
      writeFileSync(join(dir, 'grants/gws/_app.yaml'), appYaml(server).replace('  customer: C0iden42\n', ''));
      commitAll(dir, 'no customer');
      expect((await skipped())[0]).toContain(
        'the app declares tiers, and the License Manager lists licences only by customer: set connector.customer',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('takes a mapping _app.yaml no longer declares from whoever holds it, unless only its letter case changed', async () => {
    const { server, env } = await google();
    try {
      const dir = accessRepo(server, { alice: 'permissions: [eng-oncall, design]\nlicense: starter\n' });
      expect((await apply(dir, env)).code).toBe(0);
      // design is no longer offered (and alice's grant no longer names it); eng-oncall's address is respelt.
      writeFileSync(
        join(dir, 'grants/gws/_app.yaml'),
        appYaml(server)
          .replace('  - { id: design, kind: group, group: design@acme.com }\n', '')
          .replace('group: eng-oncall@acme.com }', 'group: ENG-ONCALL@ACME.COM }'),
      );
      writeTree(
        { 'grants/gws/alice.yaml': 'user: alice\napp: gws\npermissions: [eng-oncall]\nlicense: starter\n' },
        dir,
      );
      commitAll(dir, 'design is retired');
      expect(brief(await plan(dir, env))).toEqual(['revoke alice design@retired-2 retired']);
      expect((await apply(dir, env)).code).toBe(0);
      expect(server.workspace.members('design@acme.com')).toEqual([]);
      expect(server.workspace.members('eng-oncall@acme.com')).toEqual(['alice@acme.com MEMBER']);
      expect(brief(await plan(dir, env))).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("counts the licences Google has assigned against a tier's seats", async () => {
    const { server, env } = await google();
    try {
      const holders = server.workspace.skus.get(`Google-Apps/${STARTER}`)!.holders;
      for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'iden-admin'])
        holders.set(`${u}@acme.com`, `${u}@acme.com`);
      const dir = accessRepo(server, {});
      const run = await runCli(['plan', '--repo', dir, '--at', NOW], { env, retry: FAST });
      expect(run.stderr).toContain(
        'notice: gws: tier starter: 6 licences of Google-Apps/1010020027 are assigned in Google Workspace, more than its 5 seats',
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
