import { describe, expect, it } from 'vitest';
import { loadCommitted } from '../../src/load/committed.js';
import { loadCommittedScope, type Scope } from '../../src/load/scoped.js';

import { accessAt } from '../../src/views/access.js';
import { seatsAt } from '../../src/views/seats.js';
import { upcoming } from '../../src/views/upcoming.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

const app = (name: string, tiers: string) =>
  `name: ${name}\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: ${name}_read }\n${tiers}`;

/** Four apps (two with seat limits, one with tiers and no limit), five people, one folder without _app.yaml. */
function repo(): string {
  const files: Record<string, string> = {
    'grants/_settings.yaml': 'timezone: Europe/Berlin\n',
    'grants/_people.yaml': `people:
  - { id: ana, name: Ana, email: ana@example.com }
  - { id: ben, name: Ben, email: Ben@Example.com }
  - { id: cy, name: Cy, email: cy@example.com }
  - { id: dee, name: Dee, email: dee@example.com }
  - { id: eve, name: Eve, email: eve@example.com }
`,
    'grants/db/_app.yaml': app('db', 'licenses:\n  - { id: pro, seats: 2, role: db_pro }\n'),
    'grants/crm/_app.yaml': app(
      'crm',
      'licenses:\n  - { id: basic, seats: 3, role: crm_basic }\n  - { id: plus, seats: 1, role: crm_plus }\n',
    ),
    'grants/wiki/_app.yaml': app('wiki', 'licenses:\n  - { id: any, role: wiki_any }\n'),
    'grants/chat/_app.yaml': app('chat', ''),
    'grants/orphan/ana.yaml': 'user: ana\napp: orphan\npermissions: [read]\n',
  };
  const plans: [string, string, string][] = [
    ['db', 'ana', 'license: pro\nend: 2027-03-28\n'],
    ['db', 'ben', 'license: pro\nstart: 2027-03-28\nend: 2027-04-10\n'],
    ['db', 'cy', 'license: pro\n'],
    ['db', 'dee', 'end: 2027-01-01\n'],
    ['crm', 'ben', 'license: plus\nend: 2027-05-01\n'],
    ['crm', 'cy', 'license: basic\nstart: 2027-02-01\n'],
    ['crm', 'eve', 'license: basic\n'],
    ['wiki', 'ben', 'license: any\n'],
    ['wiki', 'eve', 'license: any\nend: 2027-02-20\n'],
    ['chat', 'ben', 'start: 2027-03-01\n'],
    ['chat', 'dee', ''],
  ];
  for (const [a, user, extra] of plans)
    files[`grants/${a}/${user}.yaml`] = `user: ${user}\napp: ${a}\npermissions: [read]\n${extra}`;
  const dir = writeTree(files);
  commitAll(dir, 'apps and grants');
  return dir;
}

const zone = 'Europe/Berlin';
const at = (iso: string) => Date.parse(iso);

describe('access and upcoming for one app or one person', () => {
  it('answer from the files they need exactly what the whole repository answers', async () => {
    const dir = repo();
    const { repo: whole } = await loadCommitted(dir);
    const scopes: Scope[] = [
      { user: 'ben' },
      { user: 'BEN@example.COM' },
      { user: 'ana' },
      { user: 'eve' },
      { user: 'nobody' },
      { app: 'db' },
      { app: 'crm', user: 'cy' },
      { app: 'chat' },
    ];
    for (const scope of scopes) {
      const { repo: narrow } = await loadCommittedScope(dir, scope);
      expect(narrow.grants.length).toBeLessThan(whole.grants.length);
      for (const instant of ['2027-01-15T00:00:00Z', '2027-03-30T12:00:00Z', '2027-06-01T00:00:00Z']) {
        const t = at(instant);
        expect(accessAt(narrow, zone, t, scope), `${JSON.stringify(scope)} ${instant}`).toEqual(
          accessAt(whole, zone, t, scope),
        );
        expect(seatsAt(narrow, zone, t, scope)).toEqual(seatsAt(whole, zone, t, scope));
        expect(upcoming(narrow, zone, t, t + 120 * 86_400_000, scope)).toEqual(
          upcoming(whole, zone, t, t + 120 * 86_400_000, scope),
        );
      }
    }
    // ben's grants and, for the seats beside them, db's and crm's holders; not wiki's (no limit) nor dee's chat.
    const { repo: ben } = await loadCommittedScope(dir, { user: 'ben' });
    expect(ben.grants.map((g) => g.file).sort()).toEqual([
      'grants/chat/ben.yaml',
      'grants/crm/ben.yaml',
      'grants/crm/cy.yaml',
      'grants/crm/eve.yaml',
      'grants/db/ana.yaml',
      'grants/db/ben.yaml',
      'grants/db/cy.yaml',
      'grants/db/dee.yaml',
      'grants/wiki/ben.yaml',
    ]);
    // Seats shown with --user are those of the person's apps.
    expect(seatsAt(whole, zone, at('2027-01-15T00:00:00Z'), { user: 'ben' }).map((s) => s.app)).toEqual([
      'crm',
      'crm',
      'db',
    ]);
  });

  it('prints through the CLI what the whole read prints', async () => {
    const dir = repo();
    const full = await runCli(['access', '--repo', dir, '--at', '2027-03-30', '--format', 'json']);
    const mine = await runCli([
      ...['access', '--repo', dir, '--at', '2027-03-30', '--format', 'json', '--user', 'ben@example.com'],
    ]);
    expect(mine.code, mine.stderr).toBe(0);
    const all = JSON.parse(full.stdout) as { access: { user: string }[] };
    const one = JSON.parse(mine.stdout) as { access: { user: string }[]; seats: { app: string }[] };
    expect(one.access).toEqual(all.access.filter((r) => r.user === 'ben'));
    expect(one.seats.map((s) => s.app)).toEqual(['crm', 'crm', 'db']);
    const unknown = await runCli(['access', '--repo', dir, '--app', 'nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no app of that id in grants/');
  });
});
