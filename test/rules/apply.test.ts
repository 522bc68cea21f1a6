import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { rulesRepo, rulesRepoWith } from './fixture.js';

/** A loopback webhook that keeps what it is sent. */
async function webhook(): Promise<{ url: string; bodies: { text: string }[]; close: () => Promise<void> }> {
  const bodies: { text: string }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text) as { text: string });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function paymentsDatabase(dir: string): Promise<void> {
  seedEmbedded(dir, 'payments');
  const db = await PGlite.create(join(dir, '.iden', 'pglite', 'payments'));
  await db.exec('CREATE ROLE pay_submit; CREATE ROLE pay_approve; CREATE ROLE pay_read;');
  await db.close();
}

describe('access rules at apply', () => {
  it('holds a grant that breaks a rule; applies emergency access at once, notifies it, and removes it unapproved past the window', async () => {
    const hook = await webhook();
    try {
      const dir = rulesRepoWith({
        'grants/_settings.yaml': rulesRepo['grants/_settings.yaml']!.toString().replace(
          'emergencyWindow: PT24H',
          'emergencyWindow: PT1H\nnotify: { before: [1d], webhookEnv: NOTIFY_URL }',
        ),
        'grants/payments/erin.yaml': 'user: erin\napp: payments\npermissions: [submit]\nend: 2026-12-20\n',
        'grants/payments/dave.yaml':
          'user: dave\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T15:00:00Z\nemergency: true\nreason: INC-7 payouts stuck\n',
        '.gitignore': '.iden/\n',
        'grants/gh/_app.yaml': null,
        'grants/gh/bob.yaml': null,
        'grants/db/alice.yaml': null,
      });
      commitAll(dir, 'an ineligible grant and emergency access');
      await paymentsDatabase(dir);
      const env = { NOTIFY_URL: hook.url };

      const applied = await runCli(
        ['apply', '--repo', dir, '--at', '2026-11-27T12:00:00Z', '--yes', '--no-push'],
        {
          env,
        },
      );
      // Held access makes the run exit 1; what it could apply, it applied.
      expect(applied.code).toBe(1);
      expect(applied.stdout).toContain('Applied: 1 granted, 0 revoked, 0 unchanged, 0 failed.');
      expect(applied.stdout).toContain(
        'held: erin in payments is left as it is: grants/payments/erin.yaml does not validate: erin may not hold this under the rule of payments',
      );
      expect(hook.bodies.map((b) => b.text)).toEqual([
        '🚨 Emergency access applied: dave → payments (read) until 2026-11-27T14:00:00+01:00. Why: INC-7 payouts stuck. It must be approved after the fact (a pull request removing emergency: true from grants/payments/dave.yaml) by 2026-11-27T14:00:00+01:00, or the next run removes it.',
      ]);
      expect(applied.stderr).toContain('notice: emergency access grants/payments/dave.yaml notified');

      const flagged = await runCli([
        'access',
        '--repo',
        dir,
        '--at',
        '2026-11-27T12:30:00Z',
        '--app',
        'payments',
      ]);
      expect(flagged.stdout).toContain('active, EMERGENCY (approve by 2026-11-27T14:00:00+01:00)');

      // The rule stops allowing emergency access: the file no longer validates, and is still removed, never held in force.
      const app = join(dir, 'grants/payments/_app.yaml');
      writeFileSync(app, readFileSync(app, 'utf8').replace(/\n {4}rule:\n {6}emergency: .*\n/, '\n'));
      expect(readFileSync(app, 'utf8')).not.toContain('emergency');
      commitAll(dir, 'no more emergency access to read');
      const later = await runCli(
        ['apply', '--repo', dir, '--at', '2026-11-27T13:30:00Z', '--yes', '--no-push'],
        {
          env,
        },
      );
      expect(later.stdout).toMatch(/- dave\s+payments\s+read/);
      expect(later.stdout).toContain('Applied: 0 granted, 1 revoked');
      expect(hook.bodies).toHaveLength(1);
    } finally {
      await hook.close();
    }
  }, 120_000);
});
