import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { type LdapProxy, startProxy } from '../helpers/ldap-proxy.js';
import { apply, brief, change, grantFiles, ldapRepo, NOW, plan } from '../helpers/ldap-repo.js';
import { writeTree } from '../helpers/repo.js';
import { ADMIN, person, SERVICE, type Slapd, SUFFIX, startSlapd } from '../helpers/slapd.js';

const env = { LDAP_BIND_DN: SERVICE.dn, LDAP_BIND_PASSWORD: SERVICE.password };
const G = (cn: string) => `cn=${cn},ou=groups,${SUFFIX}`;
const P = (uid: string) => `uid=${uid},ou=people,${SUFFIX}`;
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
let slapd: Slapd;
let proxy: LdapProxy;

beforeAll(async () => {
  slapd = await startSlapd();
  proxy = await startProxy({ host: '127.0.0.1', port: Number(new URL(slapd.url).port) });
  await slapd.add(PEOPLE.map((uid) => person(uid)));
});
afterAll(async () => {
  await proxy?.close();
  await slapd?.remove();
});

const connector = (url: string, extra = '') =>
  `flavor: openldap, url: ${url}, baseDn: "${SUFFIX}", peopleBaseDn: "ou=people,${SUFFIX}"${extra}`;
const modifies = () => proxy.counts.get('modify') ?? 0;

describe('ldap connector against a real OpenLDAP slapd', () => {
  it('grants, changes, ends and revokes with one modify per group; drift is kept, then pruned', async () => {
    await slapd.add([
      [G('vpn'), { objectClass: 'groupOfNames', cn: 'vpn', member: P('erin') }],
      [G('wiki'), { objectClass: 'groupOfUniqueNames', cn: 'wiki', uniqueMember: `${P('frank')}#'0101'B` }],
      [G('shell'), { objectClass: 'posixGroup', cn: 'shell', gidNumber: '5000' }],
    ]);
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(proxy.url),
      entitlements: [
        '{ id: vpn, kind: group, name: vpn }',
        `{ id: wiki, kind: group, dn: "${G('wiki')}" }`,
        `{ id: shell, kind: group, dn: "${G('shell').toUpperCase()}" }`,
      ],
      grants: { alice: ['vpn', 'wiki', 'shell'], carol: ['wiki'], dave: ['wiki'] },
    });
    writeTree({ 'grants/dir/bob.yaml': 'user: bob\napp: dir\npermissions: [vpn]\nend: 2027-01-01\n' }, dir);
    commitAll(dir, 'bob until the new year');
    const before = modifies();
    const first = await apply(dir, env);
    expect(first.stdout).toContain('Applied: 6 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(modifies() - before).toBe(3);
    expect(await slapd.values(G('vpn'), 'member')).toEqual([P('alice'), P('bob'), P('erin')]);
    expect(await slapd.values(G('wiki'), 'uniqueMember')).toEqual(
      [P('alice'), P('carol'), P('dave'), `${P('frank')}#'0101'B`].sort(),
    );
    expect(await slapd.values(G('shell'), 'memberUid')).toEqual(['alice']);
    const quiet = await plan(dir, env);
    expect(brief(quiet.plan)).toEqual([]);
    expect(quiet.plan.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['erin vpn', 'frank wiki']);

    // alice keeps only vpn; carol gains shell: the shell group's add and removal go in one modify.
    change(dir, grantFiles({ alice: ['vpn'], carol: ['wiki', 'shell'] }));
    const mark = modifies();
    const changed = await apply(dir, env);
    expect(changed.stdout).toContain('Applied: 1 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect(modifies() - mark).toBe(2);
    expect(await slapd.values(G('shell'), 'memberUid')).toEqual(['carol']);

    const ended = await apply(dir, env, '2027-01-02T00:00:00Z');
    expect(ended.stdout).toMatch(/revoked\s+bob\s+dir\s+vpn/);
    change(dir, { 'grants/dir/carol.yaml': null }, 'carol leaves');
    const revoked = await apply(dir, env, '2027-01-02T00:00:00Z');
    expect(revoked.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect(await slapd.values(P('carol'), 'uid')).toEqual(['carol']);

    // prune: true takes the hand-made memberships away, removing frank's value as stored (with its #'…'B).
    writeFileSync(
      join(dir, 'grants/dir/_app.yaml'),
      `name: Directory\nconnector: { type: ldap, ${connector(proxy.url)} }\nentitlements:\n  - { id: vpn, kind: group, name: vpn }\n  - { id: wiki, kind: group, dn: "${G('wiki')}" }\n  - { id: shell, kind: group, dn: "${G('shell')}" }\nprune: true\n`,
    );
    commitAll(dir, 'prune');
    const pruned = await apply(dir, env, '2027-01-02T00:00:00Z');
    expect(pruned.stdout).toContain('Applied: 0 granted, 2 revoked, 0 unchanged, 0 failed.');
    expect(await slapd.values(G('vpn'), 'member')).toEqual([P('alice')]);
    expect(await slapd.values(G('wiki'), 'uniqueMember')).toEqual([P('dave')]);
    expect(brief((await plan(dir, env, '2027-01-02T00:00:00Z')).plan)).toEqual([]);
  });

  it('adds 3,000 members in one modify and reads them back page by page under a 500-entry size limit', async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    const ldif = ids
      .map((uid) => {
        const [dn, attributes] = person(uid);
        const lines = Object.entries(attributes).flatMap(([k, v]) =>
          (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`),
        );
        return `dn: ${dn}\n${lines.join('\n')}\n`;
      })
      .join('\n');
    execFileSync('ldapadd', ['-x', '-H', slapd.url, '-D', ADMIN.dn, '-w', ADMIN.password], {
      input: ldif,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    await slapd.add([[G('all'), { objectClass: 'groupOfNames', cn: 'all', member: P('alice') }]]);
    // The service account cannot read them all without paging.
    const unpaged = new Client({ url: slapd.url });
    await unpaged.bind(SERVICE.dn, SERVICE.password);
    await expect(
      unpaged.search(`ou=people,${SUFFIX}`, { filter: '(uid=*)', attributes: ['uid'] }),
    ).rejects.toMatchObject({ code: 4 });
    await unpaged.unbind();
    const dir = ldapRepo({
      people: ['alice', ...ids],
      connector: connector(proxy.url),
      entitlements: ['{ id: all, kind: group, name: all }'],
      grants: Object.fromEntries(['alice', ...ids].map((id) => [id, ['all']])),
    });
    const [m, s] = [modifies(), proxy.counts.get('search') ?? 0];
    const run = await apply(dir, env);
    expect(run.stdout).toContain('Applied: 3000 granted, 0 revoked, 0 unchanged, 0 failed.');
    // One modify; the group read once, the people in pages of 500 (3,000 of them and the six others).
    expect(modifies() - m).toBe(1);
    expect((proxy.counts.get('search') ?? 0) - s).toBe(1 + Math.ceil(3006 / 500));
    expect(await slapd.values(G('all'), 'member')).toHaveLength(3001);
    expect(brief((await plan(dir, env)).plan)).toEqual([]);
  });

  it('reports nested groups and members that are no one iden reads, never as people, never pruned', async () => {
    await slapd.add([
      [G('admins'), { objectClass: 'groupOfNames', cn: 'admins', member: P('carol') }],
      [
        G('ops'),
        { objectClass: 'groupOfNames', cn: 'ops', member: [P('bob'), G('admins'), P('ghost'), SERVICE.dn] },
      ],
    ]);
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(slapd.url),
      entitlements: ['{ id: ops, kind: group, name: ops }'],
      grants: { alice: ['ops'] },
      extra: 'prune: true\n',
    });
    const run = await apply(dir, env);
    expect(run.stdout).toContain('Applied: 1 granted, 1 revoked, 0 unchanged, 0 failed.');
    expect(run.stderr).toContain(`group ${G('ops')} (entitlement ops) has nested group ${G('admins')}`);
    expect(run.stderr).toContain(`lists 1 member(s) whose entries do not exist (${P('ghost')})`);
    expect(run.stderr).toContain(`1 member(s) that are not people under ou=people,${SUFFIX} (${SERVICE.dn})`);
    // bob was pruned; carol, in the nested group, is not one of ops' people: she is neither counted nor removed.
    expect(await slapd.values(G('ops'), 'member')).toEqual(
      [G('admins'), P('alice'), P('ghost'), SERVICE.dn].sort(),
    );
    expect(await slapd.values(G('admins'), 'member')).toEqual([P('carol')]);
    expect(brief((await plan(dir, env)).plan)).toEqual([]);
  });

  it('refuses to empty a groupOfNames with a clear error, and with placeholderMember leaves the placeholder', async () => {
    await slapd.add([
      [G('solo'), { objectClass: 'groupOfNames', cn: 'solo', member: P('alice') }],
      [G('nobody'), { objectClass: 'organizationalRole', cn: 'nobody' }],
    ]);
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(slapd.url),
      entitlements: ['{ id: solo, kind: group, name: solo }'],
      grants: { alice: ['solo'] },
    });
    change(dir, { 'grants/dir/alice.yaml': null }, 'alice leaves solo');
    const refused = await apply(dir, env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `removing alice from ${G('solo')} in dir: LDAP 65 objectClassViolation: object class 'groupOfNames' requires attribute 'member'; ${G('solo')} would have no member left, which its object class forbids: add another member first, or set placeholderMember in the connector to a DN iden may leave in emptied groups`,
    );
    writeFileSync(
      join(dir, 'grants/dir/_app.yaml'),
      `name: Directory\nconnector: { type: ldap, ${connector(slapd.url, `, placeholderMember: "${G('nobody')}"`)} }\nentitlements:\n  - { id: solo, kind: group, name: solo }\n`,
    );
    commitAll(dir, 'a placeholder');
    const emptied = await apply(dir, env);
    expect(emptied.stdout).toContain('Applied: 0 granted, 1 revoked, 0 unchanged, 0 failed.');
    expect(await slapd.values(G('solo'), 'member')).toEqual([G('nobody')]);
    const quiet = await plan(dir, env);
    expect(brief(quiet.plan)).toEqual([]);
    expect(quiet.stderr).not.toContain('nobody');
  });

  it('imports who is in each managed group, after which the plan is empty', async () => {
    await slapd.add([
      [G('design'), { objectClass: 'groupOfNames', cn: 'design', member: [P('alice'), P('bob')] }],
      [
        G('print'),
        { objectClass: 'posixGroup', cn: 'print', gidNumber: '5001', memberUid: ['bob', 'carol'] },
      ],
    ]);
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(slapd.url),
      entitlements: ['{ id: design, kind: group, name: design }', '{ id: print, kind: group, name: print }'],
      grants: {},
    });
    const imported = await runCli(['import', '--repo', dir, '--app', 'dir', '--at', NOW], { env });
    expect(imported.stdout).toContain('Import: 3 grant files written, 0 conflicts, 0 unmatched');
    commitAll(dir, 'imported');
    const after = await plan(dir, env);
    expect(brief(after.plan)).toEqual([]);
    expect(after.plan.drift).toEqual([]);
    const observed = await runCli(['access', '--repo', dir, '--observed', '--at', NOW, '--format', 'json'], {
      env,
    });
    expect(
      JSON.parse(observed.stdout).access.map(
        (r: { user: string; observed: string }) => `${r.user} ${r.observed}`,
      ),
    ).toEqual(['alice in-sync', 'bob in-sync', 'carol in-sync']);
  });
});
