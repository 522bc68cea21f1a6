import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { rulesRepoWith } from './fixture.js';

describe('iden grant --emergency', () => {
  const repo = () => {
    const dir = rulesRepoWith({ '.gitignore': '.iden/\n' });
    commitAll(dir, 'access with rules');
    return dir;
  };
  const grant = (dir: string, ...args: string[]) =>
    runCli(
      [
        'grant',
        '--repo',
        dir,
        '--no-pr',
        '--yes',
        '--as',
        'bob-o',
        '--app',
        'payments',
        '--user',
        'dave',
        ...args,
      ],
      {
        env: {},
      },
    );

  it('writes emergency access from now to the rule’s emergency cap, and check-pr passes it without approval', async () => {
    const dir = repo();
    const out = await grant(dir, '--permission', 'read', '--emergency', '--reason', 'INC-7 payouts stuck');
    expect(out.stdout).toContain(
      'grants/payments/dave.yaml: emergency access by bob: applied without approval',
    );
    expect(out.code).toBe(0);
    expect(git(dir, ['show', 'grant/payments/dave:grants/payments/dave.yaml'])).toBe(
      '# yaml-language-server: $schema=../../schemas/grant.schema.json\nuser: dave\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T16:00:00Z\nemergency: true\nreason: INC-7 payouts stuck\n',
    );
  });

  it('refuses access no rule allows in an emergency, an end past the cap, and no reason', async () => {
    const dir = repo();
    const refused = await grant(dir, '--permission', 'submit', '--emergency', '--reason', 'x');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--emergency: the rule of payments allows no emergency access');
    const long = await grant(
      dir,
      '--permission',
      'read',
      '--emergency',
      '--reason',
      'x',
      '--end',
      '2026-11-28',
    );
    expect(long.stderr).toContain(
      'emergency access to payments (read) may last until 2026-11-27T17:00:00+01:00 at the latest',
    );
    const why = await grant(dir, '--permission', 'read', '--emergency');
    expect(why.stderr).toContain('--emergency needs --reason');
  });
});
