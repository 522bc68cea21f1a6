import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Control } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import type { Change } from '../../src/connectors/types.js';
import type { AppFile, Person } from '../../src/model/repo.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { type LdapProxy, startProxy } from '../helpers/ldap-proxy.js';
import { apply, brief, ldapRepo, NOW, plan } from '../helpers/ldap-repo.js';
import { writeTree } from '../helpers/repo.js';
import { person, SERVICE, type Slapd, SUFFIX, startSlapd } from '../helpers/slapd.js';

const env = { LDAP_BIND_DN: SERVICE.dn, LDAP_BIND_PASSWORD: SERVICE.password };
const G = (cn: string) => `cn=${cn},ou=groups,${SUFFIX}`;
const P = (uid: string) => `uid=${uid},ou=people,${SUFFIX}`;
const PEOPLE = ['alice', 'bob', 'carol', 'dave'];
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

describe('ldap connector when things go wrong', () => {
  it('takes "already a member" and "not a member" as outcomes when the directory changed after the read', async () => {
    await slapd.add([
      [G('race'), { objectClass: 'groupOfNames', cn: 'race', member: [P('bob'), P('dave')] }],
    ]);
    const file = {
      name: 'Directory',
      connector: { type: 'ldap', flavor: 'openldap', url: slapd.url, baseDn: SUFFIX },
      entitlements: [{ id: 'race', kind: 'group', name: 'race' }],
    } as unknown as AppFile;
    const people = new Map(PEOPLE.map((id) => [id, { id, name: id, email: `${id}@example.com` } as Person]));
    const session = await connectors.ldap!.open(
      { id: 'dir', file },
      { repoRoot: '.', env, lockTimeoutMs: 0, people, stillGranted: () => true },
    );
    try {
      expect((await session.observe()).map((h) => h.account).sort()).toEqual(['bob', 'dave']);
      // Someone else adds alice and removes bob between iden's read and its write.
      await slapd.modify(G('race'), 'add', 'member', [P('alice')]);
      await slapd.modify(G('race'), 'delete', 'member', [P('bob')]);
      const change = (action: 'grant' | 'revoke', user: string): Change => ({
        action,
        app: 'dir',
        user,
        account: user,
        entitlement: 'race',
        reason: action === 'grant' ? 'new-grant' : 'removed',
      });
      const changes = [
        change('grant', 'alice'),
        change('grant', 'carol'),
        change('revoke', 'bob'),
        change('revoke', 'dave'),
      ];
      const steps = session.steps(changes);
      expect(steps).toHaveLength(1);
      const results = await steps[0]!.run();
      expect(results.map((r) => `${r.change.user} ${r.outcome}`)).toEqual([
        'alice unchanged',
        'carol granted',
        'bob unchanged',
        'dave revoked',
      ]);
      expect(await slapd.values(G('race'), 'member')).toEqual([P('alice'), P('carol')]);
    } finally {
      await session.close();
    }
  });

  it('fails a grant to someone with no entry, naming the account, and applies the rest', async () => {
    await slapd.add([[G('docs'), { objectClass: 'groupOfNames', cn: 'docs', member: P('dave') }]]);
    const dir = ldapRepo({
      people: [...PEOPLE, 'zed'],
      connector: connector(slapd.url),
      entitlements: ['{ id: docs, kind: group, name: docs }'],
      grants: { alice: ['docs'], zed: ['docs'], dave: ['docs'] },
    });
    const run = await apply(dir, env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 1 failed.');
    expect(run.stdout).toContain(
      `adding zed to ${G('docs')} in dir: no entry has uid=zed under ou=people,${SUFFIX}; iden never creates directory entries: create the account, or give this person's account with accounts: { dir: … } in grants/_people.yaml`,
    );
    expect(await slapd.values(G('docs'), 'member')).toEqual([P('alice'), P('dave')]);
  });

  it('refuses to guess between two entries that hold one account', async () => {
    await slapd.add([
      person('twin1', { mail: 'twin@example.test' }),
      person('twin2', { mail: 'twin@example.test' }),
      [G('pair'), { objectClass: 'groupOfNames', cn: 'pair', member: P('dave') }],
    ]);
    const dir = ldapRepo({
      people: [],
      connector: connector(slapd.url, ', accountAttribute: mail'),
      entitlements: ['{ id: pair, kind: group, name: pair }'],
      grants: { twin: ['pair'] },
    });
    writeTree(
      {
        'grants/_people.yaml':
          'people:\n  - { id: twin, name: Twin, email: twin@example.com, accounts: { dir: twin@example.test } }\n',
      },
      dir,
    );
    commitAll(dir, 'twin');
    const run = await apply(dir, env);
    expect(run.stdout).toContain(
      `adding twin@example.test to ${G('pair')} in dir: 2 entries have mail=twin@example.test (${P('twin1')}; ${P('twin2')}), so iden cannot tell which is this person's: make it unique, or narrow peopleBaseDn or peopleFilter`,
    );
    expect(await slapd.values(G('pair'), 'member')).toEqual([P('dave')]);
  });

  it('skips the app on a wrong password or a missing variable, and never prints the password', async () => {
    await slapd.add([[G('auth'), { objectClass: 'groupOfNames', cn: 'auth', member: P('dave') }]]);
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(slapd.url),
      entitlements: ['{ id: auth, kind: group, name: auth }'],
      grants: { alice: ['auth'] },
    });
    const wrong = { ...env, LDAP_BIND_PASSWORD: 'not-the-Password-9' };
    const refused = await plan(dir, wrong);
    expect(refused.plan.skipped).toEqual([
      {
        app: 'dir',
        error: true,
        reason: `cannot observe: cannot read ${slapd.url}: binding to ${slapd.url} as ${SERVICE.dn}: LDAP 49 invalidCredentials; check the DN in $LDAP_BIND_DN and the password in $LDAP_BIND_PASSWORD`,
      },
    ]);
    const applied = await apply(dir, wrong);
    expect(applied.code).toBe(1);
    const unset = await plan(dir, { LDAP_BIND_DN: SERVICE.dn });
    expect(unset.plan.skipped[0]!.reason).toBe('no credentials: LDAP_BIND_PASSWORD is not set');
    for (const output of [refused, applied, unset])
      for (const secret of ['not-the-Password-9', SERVICE.password]) {
        expect(output.stdout).not.toContain(secret);
        expect(output.stderr).not.toContain(secret);
      }
  });

  it('fails the rest cleanly when the server stops mid-run, and the next run converges', async () => {
    const groups = ['s1', 's2', 's3', 's4'];
    await slapd.add(groups.map((cn) => [G(cn), { objectClass: 'groupOfNames', cn, member: P('dave') }]));
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(proxy.url),
      entitlements: groups.map((id) => `{ id: ${id}, kind: group, name: ${id} }`),
      grants: { alice: groups },
    });
    // The first group's modify is answered, then slapd stops: nothing more reaches it.
    const stopped = proxy.cutAfter('modifyResponse', 1, () => slapd.stop());
    try {
      const [run] = await Promise.all([apply(dir, env), stopped]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 3 failed.');
      // The modify in flight is tried again on a new connection, which finds no server: the app stops there
      // (once or twice again, as the server's stop and the retry race on a loaded machine).
      expect(run.stdout).toMatch(
        /failed\s+alice\s+dir\s+s2\s+(connecting|binding) to ldap:\/\/127\.0\.0\.1:\d+.*: the directory cannot be reached, so dir's other changes are not tried \(after [23] attempts\)/,
      );
      expect(run.stdout).toMatch(/failed\s+alice\s+dir\s+s3\s+not tried: (connecting|binding) to/);
    } finally {
      await slapd.start();
      await proxy.listen();
    }
    const again = await apply(dir, env);
    expect(again.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(brief((await plan(dir, env)).plan)).toEqual([]);
  });

  it('gives up on a request that is never answered, within the timeout, and reads nothing as empty', async () => {
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(proxy.url, ', timeoutMs: 300'),
      entitlements: ['{ id: auth, kind: group, name: auth }'],
      grants: { alice: ['auth'] },
    });
    proxy.swallow.add('search');
    try {
      const result = await plan(dir, env);
      expect(result.plan.changes).toEqual([]);
      expect(result.plan.skipped[0]!.reason).toMatch(
        /^cannot observe: reading ldap:.*SearchRequest: Operation timed out \(after 3 attempts\)$/,
      );
    } finally {
      proxy.swallow.clear();
    }
  });

  it('verifies TLS against caFile (ldaps:// and StartTLS), and refuses an unknown authority and plain LDAP across the network', async () => {
    const dir = ldapRepo({
      people: PEOPLE,
      connector: connector(slapd.ldapsUrl, `, caFile: ${slapd.ca}`),
      entitlements: ['{ id: auth, kind: group, name: auth }'],
      grants: { dave: ['auth'] },
    });
    expect((await plan(dir, env)).plan).toMatchObject({ changes: [], skipped: [] });
    const setting = (text: string) => {
      writeTree(
        {
          'grants/dir/_app.yaml': `name: Directory\nconnector: { type: ldap, ${text} }\nentitlements:\n  - { id: auth, kind: group, name: auth }\n`,
        },
        dir,
      );
      commitAll(dir, 'settings');
    };
    mkdirSync(join(dir, 'certs'));
    copyFileSync(slapd.ca, join(dir, 'certs', 'ca.pem'));
    setting(connector(slapd.url, ', startTls: true, caFile: certs/ca.pem'));
    expect((await plan(dir, env)).plan).toMatchObject({ changes: [], skipped: [] });
    setting(connector(slapd.ldapsUrl));
    expect((await plan(dir, env)).plan.skipped[0]!.reason).toContain(
      "the server's certificate is not trusted (self-signed certificate in certificate chain); set caFile to the PEM of the authority that signed it",
    );
    // Refused where it is written (iden validate), and again when a run would connect.
    setting(connector('ldap://ldap.example.invalid'));
    expect((await plan(dir, env)).plan.skipped[0]!.reason).toBe('grants/dir/_app.yaml does not validate');
    const imported = await runCli(['import', '--repo', dir, '--app', 'dir', '--at', NOW], { env });
    expect(imported.stderr).toContain(
      'iden: cannot read dir: ldap://ldap.example.invalid is plain LDAP to another machine: the bind password would cross the network in clear.',
    );
  });

  it('never follows a referral: a read that meets one skips the app', async () => {
    const partners = `ou=partners,${SUFFIX}`;
    await slapd.add([
      [
        partners,
        {
          objectClass: ['referral', 'extensibleObject'],
          ou: 'partners',
          ref: `ldap://partners.example.invalid/${partners}`,
        },
      ],
    ]);
    try {
      const dir = ldapRepo({
        people: PEOPLE,
        connector: `flavor: openldap, url: ${slapd.url}, baseDn: "${SUFFIX}"`,
        entitlements: ['{ id: auth, kind: group, name: auth }'],
        grants: { dave: ['auth'] },
      });
      const result = await plan(dir, env);
      expect(result.plan.skipped[0]!.reason).toBe(
        `cannot observe: cannot read ${slapd.url}: the server referred part of the search under ${SUFFIX} to ldap://partners.example.invalid/${partners}??sub; iden does not follow referrals: set the base DNs to what this server holds`,
      );
    } finally {
      const admin = await slapd.admin();
      await admin.del(partners, new Control('2.16.840.1.113730.3.4.2'));
      await admin.unbind();
    }
  });

  it('validates what only Active Directory offers, accounts found by mail, and a group given by dn or name', async () => {
    const dir = writeTree({
      'grants/_people.yaml': 'people:\n  - { id: ana, name: Ana, email: ana@example.com }\n',
      'grants/ad/_app.yaml': `name: AD\nconnector: { type: ldap, flavor: active-directory, url: "ldaps://dc1.example.com", baseDn: "DC=example,DC=com" }\nentitlements:\n  - { id: vpn, kind: group, name: vpn }\nlicenses:\n  - { id: seat, seats: 5, name: licensed }\n`,
      'grants/ol/_app.yaml': `name: OL\nconnector: { type: ldap, flavor: openldap, url: "ldap://ldap.example.com", baseDn: "dc=example,dc=com", accountAttribute: mail, disableOnOffboard: { under: "ou=people,dc=example,dc=com" } }\nentitlements:\n  - { id: vpn, kind: group }\n`,
      'grants/ol/ana.yaml': 'user: ana\napp: ol\npermissions: [vpn]\n',
    });
    const result = await runCli(['validate', '--repo', dir, '--at', NOW]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'grants/ad/_app.yaml:6:3 error invalid-field: an Active Directory app offers no license tiers (a seat there is a group like any other): remove "licenses" from ad, or make the group an entitlement',
    );
    expect(result.stdout).toMatch(
      /grants\/ol\/_app\.yaml:2:\d+ error invalid-field: ldap:\/\/ldap\.example\.com is plain LDAP to another machine/,
    );
    expect(result.stdout).toMatch(
      /grants\/ol\/_app\.yaml:2:\d+ error invalid-field: "connector.disableOnOffboard" is for Active Directory only \(userAccountControl\); ol is flavor openldap: remove it/,
    );
    expect(result.stdout).toMatch(
      /grants\/ol\/_app\.yaml:4:\d+ error invalid-field: "entitlements\[0\]" needs exactly one of: dn; name/,
    );
    expect(result.stdout).toContain(
      `grants/ol/ana.yaml:1:7 error missing-account: ol finds people by mail, but ana's account there is "ana": give it with accounts: { ol: ana@… } in grants/_people.yaml`,
    );
  });
});
