import { describe, expect, it } from 'vitest';
import { runCli, validateJson } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { rulesRepoWith } from './fixture.js';

const AT = ['--at', '2026-11-27T12:00:00Z'];

async function validate(files: Record<string, string>) {
  const dir = rulesRepoWith(files);
  commitAll(dir, 'access with rules');
  return runCli(['validate', '--repo', dir, ...AT]);
}

describe('access rules in iden validate', () => {
  it('accepts a grant that meets every rule', async () => {
    const { code, stdout } = await validate({
      'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [submit]\nend: 2027-01-15\n',
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'valid: no problems found\n' });
  });

  it('points at the end and says the longest end allowed', async () => {
    const { code, stdout } = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [submit]\nstart: 2026-12-01\nend: 2027-12-01\n',
    });
    expect(code).toBe(1);
    expect(stdout).toBe(
      'grants/payments/dave.yaml:5:6 error rule-max-duration: end 2027-12-01 is more than P90D after its start 2026-12-01, which the rule of payments allows at most: the longest end allowed is 2027-03-01\n' +
        '1 error, 0 warnings in 1 file\n',
    );
  });

  it('asks for an end when the rule caps the duration, counting from now without a start', async () => {
    const { stdout } = await validate({
      'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [submit]\n',
    });
    expect(stdout).toContain(
      'grants/payments/dave.yaml:1:1 error rule-max-duration: the rule of payments allows at most P90D: add an end, at the latest 2027-02-25T13:00:00+01:00',
    );
  });

  it('names the rule a person is not eligible under, with their attributes', async () => {
    const { stdout } = await validate({
      'grants/payments/erin.yaml': 'user: erin\napp: payments\npermissions: [submit]\nend: 2027-01-01\n',
    });
    expect(stdout).toContain(
      'grants/payments/erin.yaml:1:7 error rule-not-eligible: erin may not hold this under the rule of payments: it is for people whose department is finance, and erin has department engineering',
    );
  });

  it("applies an entitlement's rule over its app's, with the settings' privileged defaults", async () => {
    const { stdout } = await validate({
      'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [approve]\nend: 2027-04-01\n',
    });
    expect(stdout).toContain('error rule-max-duration: end 2027-04-01 is more than P90D after now');
    expect(stdout).toContain('which the payments owners allows at most');
  });

  it('reports a separation-of-duties conflict on the grant, unless it carries an exception', async () => {
    const conflicting = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [submit, approve]\nend: 2026-12-20\n',
    });
    expect(conflicting.code).toBe(1);
    expect(conflicting.stdout).toContain(
      "grants/payments/dave.yaml:3:14 error conflict: dave would hold payments:submit and payments:approve from 2026-11-27T13:00:00+01:00, which _settings.yaml's conflicts forbid",
    );
    const excepted = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [submit, approve]\nend: 2026-12-20\nexception: { reason: "Only one on call, FIN-88", end: 2026-12-20 }\n',
    });
    expect({ code: excepted.code, stdout: excepted.stdout }).toEqual({
      code: 0,
      stdout: 'valid: no problems found\n',
    });
  });

  it('treats an existing grant that breaks a rule as a warning until the rule is effective', async () => {
    const app = (effective: string) =>
      `name: Payments\nconnector: { type: postgres }\nentitlements:\n  - { id: submit, kind: role, role: pay_submit }\n  - { id: approve, kind: role, role: pay_approve }\napprovers: [carol]\nrule: { maxDuration: P30D, effective: ${effective} }\n`;
    const grant = 'user: dave\napp: payments\npermissions: [submit]\nend: 2027-06-01\n';
    const before = await validate({
      'grants/payments/_app.yaml': app('2027-01-01'),
      'grants/payments/dave.yaml': grant,
    });
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(
      'warning rule-max-duration: end 2027-06-01 is more than P30D after now (2026-11-27T13:00:00+01:00; no start), which the rule of payments allows at most: the longest end allowed is 2026-12-27T13:00:00+01:00 (an error from 2027-01-01, the date the rule takes effect)',
    );
    const after = await validate({
      'grants/payments/_app.yaml': app('2026-11-01'),
      'grants/payments/dave.yaml': grant,
    });
    expect(after.code).toBe(1);
  });

  it('refuses emergency access where no rule allows it, and caps it where one does', async () => {
    const refused = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [submit]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T14:00:00Z\nemergency: true\n',
    });
    expect(refused.stdout).toContain('error rule-emergency: the rule of payments allows no emergency access');
    const capped = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T20:00:00Z\nemergency: true\n',
    });
    expect(capped.stdout).toContain(
      'error rule-max-duration: end 2026-11-27T20:00:00Z is more than PT4H after its start 2026-11-27T12:00:00Z, which emergency access under the rule of payments:read allows at most: the longest end allowed is 2026-11-27T17:00:00+01:00',
    );
    const ok = await validate({
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T16:00:00Z\nemergency: true\n',
    });
    expect(ok.code).toBe(0);
  });

  it('checks the people and entitlements rules and conflicts name', async () => {
    const { json } = await validateJson(
      rulesRepoWith({
        'grants/_settings.yaml':
          'timezone: UTC\nroles: { super-admin: [alice] }\npolicy: { verifyMerges: false }\nconflicts: [[payments:submit, payments:aprove]]\n',
      }),
    );
    expect(json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      'grants/_settings.yaml:4:31 unknown-permission',
    ]);
  });
});
