import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import type { LdapSession } from '../../src/connectors/ldap/session.js';
import type { Change } from '../../src/connectors/types.js';
import type { AppFile, Person } from '../../src/model/repo.js';
import { commitAll } from '../helpers/git.js';
import { apply, brief, change, grantFiles, ldapRepo, plan } from '../helpers/ldap-repo.js';
import { writeTree } from '../helpers/repo.js';
import { BULK, DOMAIN, type SambaDc, SVC, startSambaDc } from '../helpers/samba-dc.js';

const env = { LDAP_BIND_DN: SVC.dn, LDAP_BIND_PASSWORD: SVC.password };
const G = (cn: string) => `CN=${cn},OU=Groups,${DOMAIN}`;
const STAFF = ['alice', 'bob', 'carol'];
const CONTRACTORS = ['dave', 'erin'];
const PEOPLE = `OU=People,${DOMAIN}`;
const U = (name: string) =>
  /^u\d{4}$/.test(name)
    ? `CN=${name},OU=Bulk,${DOMAIN}`
    : `CN=${name},OU=${CONTRACTORS.includes(name) ? 'Contractors' : 'Staff'},${PEOPLE}`;
let dc: SambaDc;

beforeAll(async () => {
  // The first run on a machine provisions the template (about 15 s); later ones copy it.
  dc = await startSambaDc(inject('systemTmpdir'));
  await dc.add(
    [...STAFF, ...CONTRACTORS].map((name) => [
      U(name),
      { objectClass: 'user', sAMAccountName: name, userAccountControl: '544' },
    ]),
  );
}, 120_000);
afterAll(() => dc?.remove());

// The people of these tests only: the 3,000 others are read by the test about them.
const connector = (extra = '') =>
  `flavor: active-directory, url: ${dc.ldapsUrl}, caFile: ${dc.ca}, baseDn: "${DOMAIN}", peopleBaseDn: "${PEOPLE}"${extra}`;
const group = (cn: string, members: string[] = []) =>
  [
    G(cn),
    { objectClass: 'group', sAMAccountName: cn, ...(members.length > 0 ? { member: members } : {}) },
  ] as [string, Record<string, string | string[]>];
const disabled = async (name: string) =>
  (Number((await dc.values(U(name), 'userAccountControl'))[0]) & 2) !== 0;

describe('ldap connector against a real Samba Active Directory domain controller', () => {
  it('grants, changes and ends over ldaps with a delegated account; a nested group is reported as a group', async () => {
    await dc.add([group('helpdesk', [U('bob')]), group('vpn', [U('carol'), G('helpdesk')]), group('wiki')]);
    const dir = ldapRepo({
      people: [...STAFF, ...CONTRACTORS],
      connector: connector(),
      entitlements: ['{ id: vpn, kind: group, name: vpn }', `{ id: wiki, kind: group, dn: "${G('wiki')}" }`],
      grants: { alice: ['vpn', 'wiki'] },
    });
    writeTree({ 'grants/dir/bob.yaml': 'user: bob\napp: dir\npermissions: [wiki]\nend: 2027-01-01\n' }, dir);
    commitAll(dir, 'bob until the new year');
    const first = await apply(dir, env);
    expect(first.stdout).toContain('Applied: 3 granted, 0 revoked, 0 unchanged, 0 failed.');
    expect(await dc.values(G('vpn'), 'member')).toEqual([U('alice'), U('carol'), G('helpdesk')].sort());
    expect(first.stderr).toContain(
      `group ${G('vpn')} (entitlement vpn) has nested group ${G('helpdesk')}: a group is reported as a group, not as the people in it`,
    );
    const quiet = await plan(dir, env);
    expect(brief(quiet.plan)).toEqual([]);
    // bob is in helpdesk, inside vpn: not one of vpn's people, so neither drift nor a grant kept.
    expect(quiet.plan.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['carol vpn']);

    change(dir, grantFiles({ alice: ['wiki'] }));
    const changed = await apply(dir, env);
    expect(changed.stdout).toContain('Applied: 0 granted, 1 revoked, 0 unchanged, 0 failed.');
    const ended = await apply(dir, env, '2027-01-02T00:00:00Z');
    expect(ended.stdout).toMatch(/revoked\s+bob\s+dir\s+wiki\s/);
    expect(await dc.values(G('wiki'), 'member')).toEqual([U('alice')]);
    expect(await dc.values(G('vpn'), 'member')).toEqual([U('carol'), G('helpdesk')].sort());
  });

  it('takes "already a member" (68) and "not a member" (53, then compared) as outcomes', async () => {
    await dc.add([group('race', [U('bob'), U('carol')])]);
    const file = {
      name: 'AD',
      connector: {
        type: 'ldap',
        flavor: 'active-directory',
        url: dc.ldapsUrl,
        caFile: dc.ca,
        baseDn: DOMAIN,
        peopleBaseDn: PEOPLE,
      },
      entitlements: [{ id: 'race', kind: 'group', name: 'race' }],
    } as unknown as AppFile;
    const people = new Map(STAFF.map((id) => [id, { id, name: id, email: `${id}@example.com` } as Person]));
    const session = await connectors.ldap!.open(
      { id: 'dir', file },
      { repoRoot: '.', env, lockTimeoutMs: 0, people },
    );
    try {
      await session.observe();
      await dc.modify(G('race'), 'add', 'member', [U('alice')]);
      await dc.modify(G('race'), 'delete', 'member', [U('bob')]);
      const ch = (action: 'grant' | 'revoke', user: string): Change => ({
        action,
        app: 'dir',
        user,
        account: user,
        entitlement: 'race',
        reason: action === 'grant' ? 'new-grant' : 'removed',
      });
      const [step] = session.steps([ch('grant', 'alice'), ch('revoke', 'bob'), ch('revoke', 'carol')]);
      expect((await step!.run()).map((r) => `${r.change.user} ${r.outcome}`)).toEqual([
        'alice unchanged',
        'bob unchanged',
        'carol revoked',
      ]);
      expect(await dc.values(G('race'), 'member')).toEqual([U('alice')]);
    } finally {
      await session.close();
    }
  });

  it(`adds ${BULK} members in one modify and reads them back in ranges of 1,500, people in pages`, async () => {
    await dc.add([group('everyone')]);
    const ids = Array.from({ length: BULK }, (_, i) => `u${String(i).padStart(4, '0')}`);
    const dir = ldapRepo({
      people: ids,
      connector: `flavor: active-directory, url: ${dc.ldapsUrl}, caFile: ${dc.ca}, baseDn: "${DOMAIN}"`,
      entitlements: ['{ id: everyone, kind: group, name: everyone }'],
      grants: Object.fromEntries(ids.map((id) => [id, ['everyone']])),
    });
    const run = await apply(dir, env);
    expect(run.stdout).toContain(`Applied: ${BULK} granted, 0 revoked, 0 unchanged, 0 failed.`);
    expect(await dc.values(G('everyone'), 'member')).toHaveLength(BULK);
    // Read again, as the next plan would: every member, with the bind, the group's two ranges, and the people 500 a page.
    const file = {
      name: 'AD',
      connector: {
        type: 'ldap',
        flavor: 'active-directory',
        url: dc.ldapsUrl,
        caFile: dc.ca,
        baseDn: DOMAIN,
      },
      entitlements: [{ id: 'everyone', kind: 'group', name: 'everyone' }],
    } as unknown as AppFile;
    const session = (await connectors.ldap!.open(
      { id: 'dir', file },
      { repoRoot: '.', env, lockTimeoutMs: 0 },
    )) as LdapSession;
    try {
      const held = await session.observe();
      expect(held).toHaveLength(BULK);
      const people = BULK + STAFF.length + CONTRACTORS.length + 4; // Administrator, Guest, krbtgt, svc-iden
      expect(session.requests).toBe(1 + 2 + Math.ceil(people / 500));
    } finally {
      await session.close();
    }
  });

  it('disables an offboarded account only under disableOnOffboard and only when nothing on the directory grants it anything', async () => {
    await dc.add([group('work'), group('other')]);
    const dir = ldapRepo({
      people: [...STAFF, ...CONTRACTORS],
      connector: connector(`, disableOnOffboard: { under: "OU=Contractors,${PEOPLE}" }`),
      entitlements: ['{ id: work, kind: group, name: work }'],
      grants: { alice: ['work'], dave: ['work'], erin: ['work'] },
    });
    // A second app on the same directory still gives erin something.
    writeTree(
      {
        'grants/dir2/_app.yaml': `name: Other\nconnector: { type: ldap, ${connector()} }\nentitlements:\n  - { id: other, kind: group, name: other }\n`,
        ...grantFiles({ erin: ['other'] }, 'dir2'),
      },
      dir,
    );
    commitAll(dir, 'two apps');
    expect((await apply(dir, env)).stdout).toContain('Applied: 4 granted');
    change(
      dir,
      { 'grants/dir/alice.yaml': null, 'grants/dir/dave.yaml': null, 'grants/dir/erin.yaml': null },
      'offboard',
    );
    const offboarded = await apply(dir, env);
    expect(offboarded.stdout).toContain('Applied: 0 granted, 3 revoked, 0 unchanged, 0 failed.');
    expect(offboarded.stderr).toContain(
      `disabled dave (${U('dave')}): offboarded, nothing on this directory grants it anything`,
    );
    expect(await disabled('dave')).toBe(true);
    // erin still holds another app's grant; alice is staff, outside the container: neither is disabled.
    expect(await disabled('erin')).toBe(false);
    expect(await disabled('alice')).toBe(false);
    expect(await dc.values(G('work'), 'member')).toEqual([]);
    expect(brief((await plan(dir, env)).plan)).toEqual([]);

    change(dir, grantFiles({ dave: ['work'] }), 'dave is back');
    const back = await apply(dir, env);
    expect(back.stdout).toContain('Applied: 1 granted');
    expect(back.stderr).toContain(`re-enabled dave (${U('dave')}): granted again`);
    expect(await disabled('dave')).toBe(false);
    expect(await dc.values(G('work'), 'member')).toEqual([U('dave')]);
  });

  it('says plainly that the DC wants an encrypted connection, works with StartTLS, and refuses a wrong password', async () => {
    await dc.add([group('tls', [U('alice')])]);
    const dir = ldapRepo({
      people: STAFF,
      connector: `flavor: active-directory, url: ${dc.url}, baseDn: "${DOMAIN}", peopleBaseDn: "${PEOPLE}"`,
      entitlements: ['{ id: tls, kind: group, name: tls }'],
      grants: { alice: ['tls'] },
    });
    expect((await plan(dir, env)).plan.skipped[0]!.reason).toBe(
      `cannot observe: cannot read ${dc.url}: binding to ${dc.url} as ${SVC.dn}: LDAP 8 strongerAuthRequired: BindSimple: Transport encryption required.; the server wants an encrypted connection: use ldaps:// or startTls: true`,
    );
    writeTree(
      {
        'grants/dir/_app.yaml': `name: Directory\nconnector: { type: ldap, flavor: active-directory, url: ${dc.url}, startTls: true, caFile: ${dc.ca}, baseDn: "${DOMAIN}", peopleBaseDn: "${PEOPLE}" }\nentitlements:\n  - { id: tls, kind: group, name: tls }\n`,
      },
      dir,
    );
    commitAll(dir, 'StartTLS');
    expect((await plan(dir, env)).plan).toMatchObject({ changes: [], skipped: [] });
    const wrong = await plan(dir, { ...env, LDAP_BIND_PASSWORD: 'Wrong.Pass99' });
    expect(wrong.plan.skipped[0]!.reason).toContain('LDAP 49 invalidCredentials');
    expect(wrong.stdout + wrong.stderr).not.toContain('Wrong.Pass99');
  });
});
