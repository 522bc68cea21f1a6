import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { cli, NOW, org } from '../helpers/okta-org.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

/** iden import fills people's attributes from what the connector reads (here Okta's user profiles, on the loopback org). */

describe('iden import fills attributes the app knows', () => {
  it('Okta: department, title and the manager (a user of the org) into _people.yaml, never over what is there', async () => {
    const o = await org();
    const { server } = o;
    try {
      const boss = server.addUser('vera@example.com', {
        profile: { firstName: 'Vera', lastName: 'Stone', department: 'Finance', title: 'CFO' },
      });
      server.addUser('tom@example.com', {
        profile: {
          firstName: 'Tom',
          lastName: 'Hale',
          department: 'Finance',
          title: 'Analyst',
          managerId: boss.id,
        },
      });
      server.addUser('una@example.com', {
        profile: { department: 'Sales', title: 'Rep', managerId: boss.id },
      });
      const ledger = server.addGroup('ledger');
      for (const login of ['vera@example.com', 'tom@example.com', 'una@example.com'])
        ledger.members.push(server.user(login).id);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  # the finance team\n  - { id: vera, name: Vera Stone, email: vera@example.com }\n  - id: una\n    name: Una\n    email: una@example.com\n    attributes: { department: sales-emea }\n',
        'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${server.url}', timeoutMs: 2000 }\nentitlements:\n  - { id: ledger, kind: group, group: ledger }\n`,
      });
      commitAll(dir, 'people, no grants');
      const out = await cli(o, [
        ...['import', '--repo', dir, '--app', 'okta', '--at', NOW, '--add-people', '--format', 'json'],
      ]);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({
        peopleAdded: ['tom'],
        attributesFilled: ['una', 'vera'],
      });
      const text = readFileSync(join(dir, 'grants/_people.yaml'), 'utf8');
      expect(text).toContain('# the finance team');
      const people = (parse(text) as { people: { id: string; name: string; attributes?: unknown }[] }).people;
      const of = (id: string) => people.find((p) => p.id === id)!;
      expect(of('vera').attributes).toEqual({ department: 'Finance', title: 'CFO' });
      // What _people.yaml says stays; what it lacks is filled, the manager as a person id.
      expect(of('una').attributes).toEqual({ department: 'sales-emea', title: 'Rep', manager: 'vera' });
      expect(of('tom')).toMatchObject({
        name: 'Tom Hale',
        attributes: { department: 'Finance', title: 'Analyst', manager: 'vera' },
      });
      // The directory still validates, and the attributes are there for rules and iden grant.
      commitAll(dir, 'imported');
      expect((await runCli(['validate', '--repo', dir, '--at', NOW])).code).toBe(0);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('SCIM Users as the import reads them', () => {
  it('give the name, primary email, title, the enterprise extension’s department, and the manager’s userName', async () => {
    const { heldOf } = await import('../../src/connectors/scim/held.js');
    const { ENTERPRISE } = await import('../../src/connectors/scim/read.js');
    const users = [
      {
        id: 'u1',
        userName: 'vera@example.com',
        name: { givenName: 'Vera', familyName: 'Stone' },
        roles: [{ value: 'Ledger' }],
      },
      {
        id: 'u2',
        userName: 'tom',
        name: { formatted: 'Tom Hale' },
        emails: [{ value: 'tom.work@example.com' }, { value: 'tom@example.com', primary: true }],
        title: 'Analyst',
        roles: [{ value: 'Ledger' }],
        [ENTERPRISE]: { department: 'Finance', manager: { value: 'u1' } },
      },
    ];
    const input = {
      users: users.values(),
      groups: new Map(),
      mappings: [{ id: 'ledger', license: false, role: 'Ledger' }],
      ownership: () => ({ marked: false, owned: false }),
      isAccount: () => true,
    };
    const imported = heldOf({ ...input, importing: true }).held;
    expect(imported.map((h) => h.profile)).toEqual([
      { name: 'Vera Stone' },
      {
        name: 'Tom Hale',
        email: 'tom@example.com',
        attributes: { department: 'Finance', title: 'Analyst' },
        managerAccount: 'vera@example.com',
      },
    ]);
    // A plan's observe carries none of it.
    expect(heldOf({ ...input, users: users.values(), importing: false }).held.map((h) => h.profile)).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe('LDAP entries as the import reads them', () => {
  it('fill department (departmentNumber), title and manager (a DN) from a real OpenLDAP slapd', async () => {
    const { startSlapd, person, SERVICE, SUFFIX } = await import('../helpers/slapd.js');
    const slapd = await startSlapd();
    try {
      const P = (uid: string) => `uid=${uid},ou=people,${SUFFIX}`;
      await slapd.add([
        person('vera', { displayName: 'Vera Stone', departmentNumber: 'finance', title: 'CFO' }),
        person('tom', {
          displayName: 'Tom Hale',
          departmentNumber: 'finance',
          title: 'Analyst',
          manager: P('vera'),
        }),
        [
          `cn=ledger,ou=groups,${SUFFIX}`,
          { objectClass: 'groupOfNames', cn: 'ledger', member: [P('vera'), P('tom')] },
        ],
      ]);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': 'people:\n  - { id: vera, name: Vera, email: vera@example.com }\n',
        'grants/dir/_app.yaml': `name: Directory\nconnector: { type: ldap, flavor: openldap, url: ${slapd.url}, baseDn: "${SUFFIX}", peopleBaseDn: "ou=people,${SUFFIX}" }\nentitlements:\n  - { id: ledger, kind: group, name: ledger }\n`,
      });
      commitAll(dir, 'directory');
      const out = await runCli(
        ['import', '--repo', dir, '--app', 'dir', '--at', NOW, '--add-people', '--format', 'json'],
        { env: { LDAP_BIND_DN: SERVICE.dn, LDAP_BIND_PASSWORD: SERVICE.password } },
      );
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ peopleAdded: ['tom'], attributesFilled: ['vera'] });
      const people = (
        parse(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')) as {
          people: { id: string; name: string; email: string; attributes?: unknown }[];
        }
      ).people;
      expect(people.find((p) => p.id === 'vera')!.attributes).toEqual({
        department: 'finance',
        title: 'CFO',
      });
      expect(people.find((p) => p.id === 'tom')).toMatchObject({
        name: 'Tom Hale',
        attributes: { department: 'finance', title: 'Analyst', manager: 'vera' },
      });
    } finally {
      await slapd.remove();
    }
  }, 60_000);
});

describe('Entra users as the import reads them', () => {
  it('fill department, jobTitle (as title), employeeType (as employment) and the manager from Microsoft Graph, and a new person’s displayName', async () => {
    const { EntraServer } = await import('../helpers/entra-server.js');
    const { connector, env, FAST } = await import('../helpers/entra-world.js');
    const server = await new EntraServer().start();
    try {
      const t = server.tenant;
      const finance = t.addGroup('Finance');
      const licensed = t.addSku('SPE_E3', 10);
      // The CEO manages vera but holds nothing and is nobody in _people.yaml: no manager for vera.
      const ceo = t.addUser('ceo@contoso.com', { jobTitle: 'CEO' });
      const vera = t.addUser('vera@contoso.com', { department: 'Finance', jobTitle: 'CFO', manager: ceo.id });
      const tom = t.addUser('tom@contoso.com', {
        displayName: 'Tom Hale',
        department: 'Finance',
        employeeType: 'Contractor',
        manager: vera.id,
      });
      finance.members.add(vera.id);
      tom.licenses.add(licensed.skuId);
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml': 'people:\n  - { id: vera, name: Vera, email: vera@contoso.com }\n',
        'grants/all/_app.yaml': `name: Entra\nconnector: ${connector(server)}\nentitlements:\n  - { id: finance, kind: group, group: Finance }\nlicenses:\n  - { id: e3, seats: 10, sku: SPE_E3 }\n`,
      });
      commitAll(dir, 'the directory');
      const out = await runCli(
        ['import', '--repo', dir, '--app', 'all', '--at', NOW, '--add-people', '--format', 'json'],
        { env, retry: FAST },
      );
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ peopleAdded: ['tom'], attributesFilled: ['vera'] });
      const people = (
        parse(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')) as {
          people: { id: string; name: string; attributes?: unknown }[];
        }
      ).people;
      expect(people.find((p) => p.id === 'vera')!.attributes).toEqual({
        department: 'Finance',
        title: 'CFO',
      });
      expect(people.find((p) => p.id === 'tom')).toMatchObject({
        name: 'Tom Hale',
        attributes: { department: 'Finance', employment: 'Contractor', manager: 'vera' },
      });
      // The managers come from one list of the holders with $expand=manager, not one call per user.
      expect(server.operations.filter((o) => o === 'GET /users/{user-id}/manager')).toEqual([]);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('the loopback Graph checks $expand against the description', () => {
  it('takes a relation of the entity with a $select of its type, and nothing else', async () => {
    const { checkRequest, route } = await import('../helpers/graph-spec.js');
    const users = route('GET', '/users')!;
    const check = (expand: string) =>
      checkRequest('GET', users, new URLSearchParams({ $select: 'id', $expand: expand }), {}, undefined);
    expect(() => check('manager($select=id,userPrincipalName,mail)')).not.toThrow();
    expect(() => check('manager')).not.toThrow();
    expect(() => check('boss')).toThrow('$expand names boss, not a relation of microsoft.graph.user');
    expect(() => check('department')).toThrow('not a relation');
    expect(() => check('manager($select=id,shoeSize)')).toThrow('$expand manager selects shoeSize');
  });
});

describe('Google Workspace users as the import reads them', () => {
  it('fill department, title, employee type, organizational unit and the manager from one users.list pass', async () => {
    const { google, appYaml } = await import('../helpers/google-setup.js');
    const { server, env } = await google();
    try {
      const w = server.workspace;
      w.setProfile('alice@acme.com', {
        fullName: 'Alice Wong',
        orgUnitPath: '/Engineering',
        organizations: [
          { name: 'Acme', type: 'work', department: 'Old team', title: 'Intern' },
          {
            name: 'Acme',
            type: 'work',
            primary: true,
            department: 'Engineering',
            title: 'SRE',
            description: 'Employee',
          },
        ],
        relations: [{ type: 'manager', value: 'carol@acme.com' }],
      });
      w.setProfile('bob@acme.com', {
        fullName: 'Bob Stone',
        organizations: [{ department: 'Design', title: 'Designer', description: 'Contractor' }],
        relations: [
          { type: 'assistant', value: 'dave@acme.com' },
          { type: 'manager', value: 'alice@acme.com' },
        ],
      });
      // Dave's manager is nobody in _people.yaml: no manager for dave.
      w.setProfile('dave@acme.com', { relations: [{ type: 'manager', value: 'iden-admin@acme.com' }] });
      const { STARTER } = await import('../helpers/google-setup.js');
      for (const u of ['alice', 'bob', 'dave']) {
        w.setMember('eng-oncall@acme.com', `${u}@acme.com`);
        w.skus.get(`Google-Apps/${STARTER}`)!.holders.set(`${u}@acme.com`, `${u}@acme.com`);
      }
      const dir = writeTree({
        'grants/_settings.yaml': NO_VERIFY,
        'grants/_people.yaml':
          'people:\n  - { id: alice, name: Alice, email: alice@acme.com }\n  - { id: carol, name: Carol, email: carol@acme.com }\n  - id: dave\n    name: Dave\n    email: dave@acme.com\n    attributes: { department: ops }\n',
        'grants/gws/_app.yaml': appYaml(server),
      });
      commitAll(dir, 'people, no grants');
      const args = ['import', '--repo', dir, '--app', 'gws', '--at', NOW, '--add-people', '--format', 'json'];

      // Without the users' read-only scope allowed by domain-wide delegation: the import goes on, said.
      const without = await runCli([...args, '--dry-run'], { env });
      expect(without.code, without.stderr).toBe(0);
      expect(without.stderr).toContain("notice: gws: people's attributes are not filled:");
      expect(JSON.parse(without.stdout).attributesFilled).toBeUndefined();

      server.delegated.add('https://www.googleapis.com/auth/admin.directory.user.readonly');
      const out = await runCli(args, { env });
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ peopleAdded: ['bob'], attributesFilled: ['alice'] });
      const people = (
        parse(readFileSync(join(dir, 'grants/_people.yaml'), 'utf8')) as {
          people: { id: string; name: string; attributes?: unknown }[];
        }
      ).people;
      const of = (id: string) => people.find((p) => p.id === id)!;
      // The primary organization, not the first.
      expect(of('alice').attributes).toEqual({
        department: 'Engineering',
        title: 'SRE',
        employment: 'Employee',
        orgUnit: '/Engineering',
        manager: 'carol',
      });
      expect(of('bob')).toMatchObject({
        name: 'Bob Stone',
        attributes: { department: 'Design', title: 'Designer', employment: 'Contractor', manager: 'alice' },
      });
      expect(of('dave').attributes).toEqual({ department: 'ops' });
      commitAll(dir, 'imported');
      const valid = await runCli(['validate', '--repo', dir, '--at', NOW]);
      expect(valid.code, valid.stdout + valid.stderr).toBe(0);
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
