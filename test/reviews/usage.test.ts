import { afterEach, describe, expect, it } from 'vitest';
import { TEST_NOW } from '../helpers/cli.js';
import { EntraServer } from '../helpers/entra-server.js';
import { connector, SECRET } from '../helpers/entra-world.js';
import { google } from '../helpers/google-setup.js';
import { OktaServer } from '../helpers/okta-server.js';
import { NO_VERIFY } from '../helpers/repo.js';
import { RunningClock } from '../helpers/running-clock.js';
import { type World, world } from './world.js';

let w: World | undefined;
let okta: OktaServer | undefined;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await w?.stop();
  await okta?.stop();
  for (const stop of stops.splice(0)) await stop();
  w = undefined;
  okta = undefined;
});

const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];

describe('iden review start --not-used-since', () => {
  it('leaves out what Okta says was used within the span, keeps the rest, and keeps what a connector cannot tell', async () => {
    okta = new OktaServer(new RunningClock(TEST_NOW));
    // bob signed in a week ago, carol last January, erin never (lastLogin null).
    const group = okta.addGroup('engineering');
    for (const [id, lastLogin] of [
      ['bob', '2026-11-20T08:30:00.000Z'],
      ['carol', '2026-01-05T10:00:00.000Z'],
      ['erin', undefined],
    ] as const)
      group.members.push(okta.addUser(`${id}@example.com`, lastLogin ? { lastLogin } : {}).id);
    await okta.start();
    w = await world({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
      'grants/_people.yaml': `people:\n${PEOPLE.map((id) => `  - { id: ${id}, name: ${id[0]!.toUpperCase()}${id.slice(1)}, email: ${id}@example.com, accounts: { github: ${id}-gh } }\n`).join('')}`,
      'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${okta.url}', timeoutMs: 2000 }\nentitlements:\n  - { id: eng, kind: group, group: engineering }\napprovers: [dave]\n`,
      'grants/okta/bob.yaml': 'user: bob\napp: okta\npermissions: [eng]\n',
      'grants/okta/carol.yaml': 'user: carol\napp: okta\npermissions: [eng]\n',
      'grants/okta/erin.yaml': 'user: erin\napp: okta\npermissions: [eng]\n',
      'grants/db/_app.yaml':
        'name: Warehouse\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\napprovers: [carol]\n',
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\n',
    });
    // Without the app's credentials nothing can be known: every grant stays in the campaign.
    const blind = await w.iden(
      [
        'review',
        'start',
        '--app',
        'okta',
        '--not-used-since',
        '90d',
        '--due',
        '2026-12-11',
        '--name',
        'blind',
      ],
      'alice',
    );
    expect(blind.stderr).toBe(
      'iden: okta: usage not known (cannot ask okta (OKTA_API_TOKEN is not set)): its grants stay in the campaign\n',
    );
    expect(blind.stdout).toContain('Started blind: 3 grants end 2026-12-11 unless kept');
    expect(w.server.pulls.get(1)!.body).toContain('| Bob (bob) | okta | eng |');
    expect(okta.requests).toEqual([]);

    w.env.OKTA_API_TOKEN = okta.apiToken;
    const run = await w.iden(
      ['review', 'start', '--not-used-since', '90d', '--due', '2026-12-11', '--name', 'stale'],
      'alice',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      'iden: db: usage not known (the postgres connector does not report when access was last used): its grants stay in the campaign',
      "iden: okta: last use from the Okta user's lastLogin",
      'iden: 1 grant used within 90d left out of the campaign',
    ]);
    expect(run.stdout).toContain('Started stale: 3 grants end 2026-12-11 unless kept');
    // Only reads: observing the org changes nothing in it.
    expect(okta.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
    const body = (n: number) => w!.server.pulls.get(n)!.body!;
    const rows = (n: number) =>
      body(n)
        .split('\n')
        .filter((l) => /^\| [A-Z]/.test(l));
    // carol reviews db (alice's), dave reviews okta: bob's recent use took his grant out.
    expect(rows(2).map((r) => r.split(' | ').slice(0, 2).concat(r.split(' | ').at(-1)!))).toEqual([
      ['| Alice (alice)', 'db', 'usage not known |'],
    ]);
    expect(rows(3).map((r) => r.split(' | ').slice(0, 2).concat(r.split(' | ').at(-1)!))).toEqual([
      ['| Carol (carol)', 'okta', 'last 2026-01-05T10:00:00Z |'],
      ['| Erin (erin)', 'okta', 'never |'],
    ]);
    expect(w.server.errors).toEqual([]);
    expect(okta.errors).toEqual([]);
  }, 120_000);

  it("asks Entra for each user's last successful sign-in, and only with --not-used-since", async () => {
    const entra = await new EntraServer().start();
    stops.push(() => entra.stop());
    const t = entra.tenant;
    t.addUser('bob@contoso.com', { lastSuccessfulSignIn: '2026-11-25T07:00:00Z' });
    t.addUser('carol@contoso.com', { lastSuccessfulSignIn: '2025-12-01T07:00:00Z' });
    t.addUser('erin@contoso.com');
    t.addGroup('VPN Users');
    w = await world({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
      'grants/_people.yaml': `people:\n${PEOPLE.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com, accounts: { github: ${id}-gh, m365: ${id}@contoso.com } }\n`).join('')}`,
      'grants/m365/_app.yaml': `name: Microsoft 365\nconnector: ${connector(entra)}\nentitlements:\n  - { id: vpn, kind: group, group: VPN Users }\napprovers: [dave]\n`,
      ...Object.fromEntries(
        ['bob', 'carol', 'erin'].map((id) => [
          `grants/m365/${id}.yaml`,
          `user: ${id}\napp: m365\npermissions: [vpn]\n`,
        ]),
      ),
    });
    w.env.ENTRA_SECRET = SECRET;
    // Without the flag nothing is asked of the app: the items say so.
    const plain = await w.iden(['review', 'start', '--due', '2026-12-11', '--name', 'plain'], 'alice');
    expect([plain.code, plain.stderr]).toEqual([0, '']);
    expect(entra.graphCalls + entra.tokenCalls).toBe(0);
    expect(w.server.pulls.get(1)!.body).toContain('| bob (bob) | m365 | vpn |');
    expect(w.server.pulls.get(1)!.body).toContain('| no | not asked |');
    const run = await w.iden(
      ['review', 'start', '--not-used-since', '30d', '--due', '2026-12-11', '--name', 'stale'],
      'alice',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      "iden: m365: last use from the user's signInActivity.lastSuccessfulSignInDateTime (needs AuditLog.Read.All)\niden: 1 grant used within 30d left out of the campaign\n",
    );
    expect(entra.operations).toContain('GET /users');
    const rows = w.server.pulls
      .get(2)!
      .body!.split('\n')
      .filter((l) => /^\| [a-z]+ \(/.test(l))
      .map((r) => [r.split(' | ')[0], r.split(' | ').at(-1)]);
    expect(rows).toEqual([
      ['| carol (carol)', 'last 2025-12-01T07:00:00Z |'],
      ['| erin (erin)', 'never |'],
    ]);
    expect(entra.errors).toEqual([]);
  }, 120_000);

  it("asks Google Workspace for each user's lastLoginTime with a token of its own scope", async () => {
    const g = await google();
    stops.push(() => g.server.stop());
    g.server.workspace.addUser('bob@acme.com', [], '2026-11-26T09:00:00.000Z');
    g.server.workspace.addUser('carol@acme.com', [], '2026-03-01T09:00:00.000Z');
    w = await world({
      '.gitignore': '.iden/\n',
      'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
      'grants/_people.yaml': `people:\n${PEOPLE.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com, accounts: { github: ${id}-gh, gw: ${id}@acme.com } }\n`).join('')}`,
      'grants/gw/_app.yaml': `name: Google Workspace\nconnector:\n  type: google-workspace\n  adminEmail: iden-admin@acme.com\n  customer: C0iden42\n  tokenUri: ${g.server.urls.token}\n  directoryUrl: ${g.server.urls.directory}\n  licensingUrl: ${g.server.urls.licensing}\nentitlements:\n  - { id: oncall, kind: group, group: eng-oncall@acme.com }\napprovers: [dave]\n`,
      ...Object.fromEntries(
        ['alice', 'bob', 'carol', 'erin'].map((id) => [
          `grants/gw/${id}.yaml`,
          `user: ${id}\napp: gw\npermissions: [oncall]\n`,
        ]),
      ),
    });
    Object.assign(w.env, g.env);
    const start = (name: string) =>
      w!.iden(['review', 'start', '--not-used-since', '30d', '--due', '2026-12-11', '--name', name], 'alice');
    // Domain-wide delegation without the users' scope: Google refuses the token, so nothing is known.
    const refused = await start('refused');
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stderr).toMatch(
      /^iden: gw: usage not known \(cannot read gw: .+\): its grants stay in the campaign\n$/,
    );
    expect(refused.stdout).toContain('Started refused: 4 grants');

    g.server.delegated.add('https://www.googleapis.com/auth/admin.directory.user.readonly');
    const run = await start('stale');
    expect(run.stderr).toBe(
      "iden: gw: last use from the user's lastLoginTime (needs the admin.directory.user.readonly scope delegated)\niden: 1 grant used within 30d left out of the campaign\n",
    );
    const rows = w.server.pulls
      .get(2)!
      .body!.split('\n')
      .filter((l) => /^\| [a-z]+ \(/.test(l))
      .map((r) => [r.split(' | ')[0], r.split(' | ').at(-1)]);
    expect(rows).toEqual([
      ['| alice (alice)', 'never |'],
      ['| carol (carol)', 'last 2026-03-01T09:00:00Z |'],
      ['| erin (erin)', 'usage not known |'],
    ]);
    // Only reads, and the users' list with a token of its own scope.
    expect(g.server.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
    expect(g.server.requests).toContain('GET /admin/directory/v1/users');
    expect(g.server.errors).toEqual([]);
  }, 120_000);
});
