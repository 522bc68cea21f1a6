import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { TEST_NOW } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { onTerminal } from '../helpers/pty.js';
import { changeRepo } from './fixture.js';

/** iden change on a real pseudo-terminal under access rules: what it offers is what iden grant would. */

// The built CLI, its clock at TEST_NOW (2026-11-27T12:00:00Z), 160 columns wide.
const iden = `stty cols 160 rows 50; IDEN_TEST_NOW=${new Date(TEST_NOW).toISOString()} ${process.execPath} ${join(packageRoot(), 'test/helpers/bin-at.mjs')}`;
const DOWN = '\x1b[B';
const BACK = '\x7f';

describe('iden change on a terminal, under access rules', () => {
  it('offers only entitlements the person may add and ends within the cap, and says the approvals needed', async () => {
    const { dir } = changeRepo();
    const session = await onTerminal(
      `${iden} change --app payments --user dave --no-pr --as bob-o`,
      [
        // submit is for frank only: shown, not pickable; the cursor starts on approve.
        { see: /Which groups, roles or permissions\?[\s\S]*read/, type: ' \r' },
        { see: /Until when\? \([^)]* allows at most P90D\)[\s\S]*Another end/, type: `${DOWN.repeat(7)}\r` },
        { see: /at the latest 2027-02-25T13:00:00\+01:00\)/, type: '2027-03-01\r' },
        { see: /the longest end allowed is 2027-02-25T13:00:00\+01:00/, type: `${BACK.repeat(10)}14d\r` },
        { see: /Reason/, type: 'FIN-12\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(session.reached, session.screen).toBe(6);
    expect(session.code, session.screen).toBe(0);
    expect(session.screen).toMatch(/submit \(not eligible: for only frank\)/);
    const until = session.screen.slice(
      session.screen.indexOf('Until when?'),
      session.screen.indexOf('Another end'),
    );
    expect(until).toContain('Keep the current end');
    expect(until).toContain('90 days');
    expect(until).not.toMatch(/180 days|1 year|No end/);
    expect(session.screen).toContain(
      'grants/payments/dave.yaml: a change to existing access: needs 1 approval under the rule of payments:read, from carol or alice; 2 under the payments owners, from frank and carol (privileged access',
    );
    expect(git(dir, ['show', 'change/payments/dave:grants/payments/dave.yaml'])).toBe(
      'user: dave\napp: payments\npermissions: [read, approve]\nend: 2026-12-11\nreason: FIN-12\n',
    );
  }, 30_000);

  it('keeps the current end when it is within the cap; an entitlement the person may not hold cannot be added', async () => {
    const { dir } = changeRepo();
    const session = await onTerminal(
      `${iden} change --app payments --user frank --no-pr --as bob-o`,
      [
        { see: /Which groups, roles or permissions\?[\s\S]*read/, type: '\r' },
        { see: /Until when\?[\s\S]*Another end/, type: '\r' },
        { see: /Reason/, type: 'FIN-13\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(session.code, session.screen).toBe(0);
    expect(session.screen).toMatch(/approve[^\n]*\(not eligible: for only dave\)/);
    expect(session.screen).toMatch(/❯ Keep the current end/);
    expect(git(dir, ['show', 'change/payments/frank:grants/payments/frank.yaml'])).toBe(
      'user: frank\napp: payments\npermissions: [read]\nend: 2026-12-20\nreason: FIN-13\n',
    );
  }, 30_000);

  it('flags that leave an end past the cap of the access as changed: the end is asked within it', async () => {
    const { dir } = changeRepo();
    const session = await onTerminal(
      `${iden} change --app payments --user frank --add-permission submit --reason FIN-14 --no-pr --as bob-o`,
      [
        {
          see: /Until when\? \(the rule of payments:submit allows at most P7D\)[\s\S]*Another end/,
          type: `${DOWN.repeat(3)}\r`,
        },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(session.code, session.screen).toBe(0);
    const until = session.screen.slice(
      session.screen.indexOf('Until when?'),
      session.screen.indexOf('Another end'),
    );
    expect(until).not.toMatch(/Keep the current end|30 days/);
    expect(git(dir, ['show', 'change/payments/frank:grants/payments/frank.yaml'])).toBe(
      'user: frank\napp: payments\npermissions: [read, submit]\nend: 2026-12-04\nreason: FIN-14\n',
    );
  }, 30_000);

  it('a tier the person is not eligible for cannot be moved to; one with a cap has the end asked within it', async () => {
    const { dir } = changeRepo({
      'grants/tools/_app.yaml':
        'name: Tools\nconnector: { type: github, org: acme }\nentitlements:\n  - { id: engineering, kind: group, team: engineering }\nlicenses:\n  - { id: seat, seats: 5 }\n  - id: enterprise\n    seats: 5\n    rule: { name: the enterprise seats, eligible: { people: [frank] }, maxDuration: P30D }\napprovers: [carol]\n',
      'grants/tools/dave.yaml': 'user: dave\napp: tools\nlicense: seat\nend: 2027-01-20\n',
      'grants/tools/frank.yaml': 'user: frank\napp: tools\nlicense: seat\nend: 2027-01-20\n',
    });
    const dave = await onTerminal(
      `${iden} change --app tools --user dave --no-pr --as bob-o`,
      [
        { see: /Which groups, roles or permissions\?[\s\S]*engineering/, type: '\r' },
        { see: /Which license tier\?/, type: '\x03' },
      ],
      { cwd: dir },
    );
    expect(dave.screen).toMatch(/enterprise[^\n]*\(not eligible: for only frank\)/);
    const frank = await onTerminal(
      `${iden} change --app tools --user frank --no-pr --as bob-o`,
      [
        { see: /Which groups, roles or permissions\?[\s\S]*engineering/, type: '\r' },
        { see: /Which license tier\?[\s\S]*enterprise/, type: `${DOWN}\r` },
        {
          see: /Until when\? \(the enterprise seats allows at most P30D\)[\s\S]*Another end/,
          type: `${DOWN.repeat(3)}\r`,
        },
        { see: /Reason/, type: 'ENT-1\r' },
        { see: /Commit it on the branch\?/, type: '\r' },
      ],
      { cwd: dir },
    );
    expect(frank.code, frank.screen).toBe(0);
    // The current end is past the enterprise cap: it is not offered.
    expect(frank.screen.slice(frank.screen.indexOf('Until when?'))).not.toContain('Keep the current end');
    expect(git(dir, ['show', 'change/tools/frank:grants/tools/frank.yaml'])).toBe(
      'user: frank\napp: tools\nlicense: enterprise\nend: 2026-12-04\nreason: ENT-1\n',
    );
  }, 40_000);
});
