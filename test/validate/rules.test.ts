import { describe, expect, it } from 'vitest';
import { loadRepo } from '../../src/load/repo.js';
import { parseTime } from '../../src/model/time.js';
import { buildContext } from '../../src/validate/context.js';
import { appDefinitions } from '../../src/validate/rules/apps.js';
import { grantDates, settingsTimezone } from '../../src/validate/rules/dates.js';
import { grantMatchesPath, oneGrantPerUserAndApp } from '../../src/validate/rules/layout.js';
import { peopleDirectory, peopleReferences } from '../../src/validate/rules/people.js';
import { grantReferences } from '../../src/validate/rules/references.js';
import { seatLimits } from '../../src/validate/rules/seats.js';
import { placeFindings, type Rule } from '../../src/validate/validate.js';
import { type FileTree, repoWith } from '../helpers/repo.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

/** Runs one rule over the base repository with some files changed; returns "file:line:col code". */
async function run(rule: Rule, changes: FileTree = {}, at = NOW): Promise<string[]> {
  const repo = await loadRepo(repoWith(changes));
  return placeFindings(repo, rule(buildContext(repo, at))).map(
    (d) => `${d.file}:${d.line}:${d.column} ${d.code}`,
  );
}

const people3 = (extra = '') =>
  `people:\n  - id: alice\n    name: A\n    email: a@example.com\n  - id: bob\n    name: B\n    email: b@example.com\n  - id: carol\n    name: C\n    email: c@example.com\n${extra}`;

describe('grantMatchesPath', () => {
  it('accepts grants whose app and user match their path', async () => {
    expect(await run(grantMatchesPath)).toEqual([]);
  });
  it('points at app and user when they differ from the folder and file name', async () => {
    expect(
      await run(grantMatchesPath, {
        'grants/db/carol.yaml': 'user: bob\napp: gh\npermissions: [readonly]\n',
      }),
    ).toEqual(['grants/db/carol.yaml:2:6 app-mismatch', 'grants/db/carol.yaml:1:7 user-mismatch']);
  });
});

describe('oneGrantPerUserAndApp', () => {
  it('accepts one grant per person and app', async () => {
    expect(
      await run(oneGrantPerUserAndApp, {
        'grants/db/bob.yaml': 'user: bob\napp: db\npermissions: [readonly]\n',
      }),
    ).toEqual([]);
  });
  it('blames the file whose name is not the user, whichever sorts first', async () => {
    expect(
      await run(oneGrantPerUserAndApp, {
        'grants/db/aaron.yaml': 'user: alice\napp: db\npermissions: [readonly]\n',
      }),
    ).toEqual(['grants/db/aaron.yaml:1:7 duplicate-grant']);
  });
});

describe('grantReferences', () => {
  it('accepts grants naming known people, entitlements and tiers', async () => {
    expect(await run(grantReferences)).toEqual([]);
  });
  it('reports each unknown name at its node', async () => {
    expect(
      await run(grantReferences, {
        'grants/gh/zoe.yaml': 'user: zoe\napp: gh\npermissions: [engineering, ops]\nlicense: gold\n',
        'grants/db/bob.yaml': 'user: bob\napp: db\nlicense: seat\n',
        'grants/gh/carol.yaml': 'user: carol\napp: gh\npermissions: [engineering]\n',
        'grants/db/carol.yaml': 'user: carol\napp: db\n',
      }),
    ).toEqual([
      'grants/db/bob.yaml:3:1 license-not-offered',
      'grants/db/carol.yaml:1:1 grants-nothing',
      'grants/gh/carol.yaml:1:1 license-required',
      'grants/gh/zoe.yaml:1:7 unknown-user',
      'grants/gh/zoe.yaml:3:28 unknown-permission',
      'grants/gh/zoe.yaml:4:10 unknown-license',
    ]);
  });
});

describe('grantDates', () => {
  it('accepts real dates with end after start', async () => {
    expect(await run(grantDates)).toEqual([]);
  });
  it('reports impossible dates, a missing offset, end before start and an ended grant', async () => {
    expect(
      await run(grantDates, {
        'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nstart: 2026-04-31\n',
        'grants/db/bob.yaml':
          'user: bob\napp: db\npermissions: [readonly]\nstart: 2027-01-02\nend: 2027-01-01\n',
        'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\nend: 2026-11-27\n',
      }),
    ).toEqual([
      'grants/db/alice.yaml:4:8 invalid-date',
      'grants/db/bob.yaml:5:6 end-before-start',
      'grants/db/carol.yaml:4:6 grant-expired',
    ]);
  });
  it('reads a bare date as midnight in the settings timezone, across daylight saving', () => {
    const summer = parseTime('2026-07-01', 'Europe/Berlin');
    const winter = parseTime('2026-12-01', 'Europe/Berlin');
    expect(summer).toEqual({ ok: true, at: Date.parse('2026-06-30T22:00:00Z') });
    expect(winter).toEqual({ ok: true, at: Date.parse('2026-11-30T23:00:00Z') });
    expect(parseTime('2026-03-29', 'Europe/Berlin')).toEqual({
      ok: true,
      at: Date.parse('2026-03-28T23:00:00Z'),
    });
    expect(parseTime('2026-12-01T09:00:00+01:00', 'America/New_York')).toEqual({
      ok: true,
      at: Date.parse('2026-12-01T08:00:00Z'),
    });
  });
});

describe('settingsTimezone', () => {
  it('accepts an IANA zone', async () => {
    expect(await run(settingsTimezone)).toEqual([]);
  });
  it('rejects a zone that does not exist', async () => {
    expect(
      await run(settingsTimezone, { 'grants/_settings.yaml': '# settings\ntimezone: Mars/Olympus\n' }),
    ).toEqual(['grants/_settings.yaml:2:11 invalid-timezone']);
  });
});

describe('seatLimits', () => {
  const seat = (user: string, extra = '') =>
    `user: ${user}\napp: gh\npermissions: [engineering]\nlicense: seat\n${extra}`;
  it('lets grants that do not overlap share a seat, an end on the day of the next start included', async () => {
    expect(
      await run(seatLimits, {
        'grants/gh/alice.yaml': seat('alice', 'end: 2027-01-01\n'),
        'grants/gh/carol.yaml': seat('carol', 'start: 2027-01-01\n'),
      }),
    ).toEqual([]);
  });
  it('ignores grants that ended before now', async () => {
    expect(
      await run(seatLimits, {
        'grants/gh/alice.yaml': seat('alice', 'start: 2026-01-01\nend: 2026-06-01\n'),
        'grants/gh/carol.yaml': seat('carol'),
      }),
    ).toEqual([]);
  });
  it('reports the grant that takes one seat too many', async () => {
    expect(
      await run(seatLimits, {
        'grants/gh/alice.yaml': seat('alice', 'end: 2027-01-02\n'),
        'grants/gh/carol.yaml': seat('carol', 'start: 2027-01-01\n'),
      }),
    ).toEqual(['grants/gh/carol.yaml:4:10 seats-exceeded']);
  });
});

describe('peopleDirectory', () => {
  it('accepts unique ids and emails and accounts for real apps', async () => {
    expect(await run(peopleDirectory)).toEqual([]);
  });
  it('reports duplicates and accounts for apps that do not exist', async () => {
    expect(
      await run(peopleDirectory, {
        'grants/_people.yaml': people3(
          '  - id: bob\n    name: B2\n    email: C@example.com\n    accounts: { jira: bob }\n',
        ),
      }),
    ).toEqual([
      'grants/_people.yaml:11:9 duplicate-id',
      'grants/_people.yaml:13:12 duplicate-email',
      'grants/_people.yaml:14:17 unknown-app',
    ]);
  });
});

describe('peopleReferences', () => {
  it('accepts role members and approvers who are people', async () => {
    expect(await run(peopleReferences)).toEqual([]);
  });
  it('reports those who are not', async () => {
    expect(
      await run(peopleReferences, {
        'grants/_settings.yaml': 'roles:\n  users-read-write: [bob, eve]\n',
        'grants/db/_app.yaml':
          'name: W\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: r }\n  - { id: writer, kind: role, role: w }\napprovers:\n  - mallory\n',
      }),
    ).toEqual(['grants/_settings.yaml:2:27 unknown-person', 'grants/db/_app.yaml:7:5 unknown-person']);
  });
  it('warns about approvers and role members no pull request can count: people without a GitHub login', async () => {
    expect(
      await run(peopleReferences, {
        'grants/_people.yaml': people3(
          '  - id: dave\n    name: D\n    email: d@example.com\n    accounts: { gh: dave-d }\n',
        ),
        'grants/_settings.yaml': 'roles:\n  super-admin: [alice]\n  users-read-write: [dave]\n',
      }),
    ).toEqual([
      'grants/_settings.yaml:2:17 approver-without-login',
      'grants/_settings.yaml:3:22 approver-without-login',
      'grants/db/_app.yaml:11:13 approver-without-login',
      'grants/gh/_app.yaml:12:13 approver-without-login',
    ]);
  });
});

describe('appDefinitions', () => {
  it('accepts unique ids, known connectors and non-negative seats', async () => {
    expect(await run(appDefinitions)).toEqual([]);
  });
  it('reports duplicates, unknown connectors and negative seats', async () => {
    expect(
      await run(appDefinitions, {
        'grants/db/_app.yaml':
          'name: W\nconnector: { type: mysql }\nentitlements:\n  - { id: readonly, kind: role, role: r }\n  - { id: readonly, kind: role, role: w }\n',
        'grants/gh/_app.yaml':
          'name: G\nconnector: { type: github, org: acme }\nentitlements:\n  - { id: engineering, kind: group, team: e }\nlicenses:\n  - { id: seat, seats: -2 }\n',
      }),
    ).toEqual([
      'grants/db/_app.yaml:2:20 unknown-connector',
      'grants/db/_app.yaml:5:11 duplicate-id',
      'grants/gh/_app.yaml:6:24 negative-seats',
    ]);
  });
});
