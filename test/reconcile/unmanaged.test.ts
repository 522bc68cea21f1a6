import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';

const NOW = '2026-11-27T12:00:00Z';

describe('access held by accounts iden leaves alone', () => {
  it('is listed by status, access --observed and the plan, not only in a notice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-unmanaged-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    commitAll(dir, 'example');
    expect((await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'])).code).toBe(0);
    // By hand: a group role inside the managed writer role; every login in it can write.
    const db = new PGlite(join(dir, '.iden/pglite/analytics'));
    await db.exec('CREATE ROLE reporting NOLOGIN; GRANT analytics_write TO reporting;');
    await db.close();
    const expected = {
      account: 'reporting',
      entitlement: 'writer',
      why: 'a role that cannot log in: a group',
    };

    const status = await runCli(['status', '--repo', dir, '--at', NOW, '--format', 'json']);
    const analytics = JSON.parse(status.stdout).apps.find((a: { app: string }) => a.app === 'analytics');
    expect(analytics).toMatchObject({ state: 'in-sync', unmanaged: [expected] });

    const access = await runCli([
      'access',
      '--repo',
      dir,
      '--at',
      NOW,
      '--observed',
      '--app',
      'analytics',
      '--format',
      'json',
    ]);
    expect(JSON.parse(access.stdout).unmanaged).toEqual([{ app: 'analytics', ...expected }]);
    const text = await runCli(['access', '--repo', dir, '--at', NOW, '--observed', '--app', 'analytics']);
    expect(text.stdout).toContain(
      'unmanaged: reporting holds writer in analytics, left alone by iden (a role that cannot log in: a group)\n',
    );

    const plan = await runCli(['plan', '--repo', dir, '--at', NOW, '--format', 'json', '--app', 'analytics']);
    expect(JSON.parse(plan.stdout).unmanaged).toEqual([{ app: 'analytics', ...expected }]);
    // Nothing is changed for it: it is not drift.
    expect(JSON.parse(plan.stdout).changes).toEqual([]);
    const planText = await runCli(['plan', '--repo', dir, '--at', NOW, '--app', 'analytics']);
    expect(planText.stdout).toContain(
      'Held by accounts iden leaves alone (never changed; whoever uses them has this access):\n!  reporting  analytics  writer  a role that cannot log in: a group\n',
    );
    expect(planText.stdout).toContain(
      'Plan: 0 to grant, 0 to revoke, 0 held, 1 unmanaged, 0 apps skipped.\n',
    );
  }, 120_000);
});
