// `iden report --observed`: what the apps hold that no grant gives is in the
// report (issue 29: everything a person sees with access in an app, managed
// or not), from the same observation as `access --observed` and `status`.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';

const NOW = '2026-11-27T12:00:00Z';

/** A page's text, tags dropped. */
const text = (path: string) =>
  readFileSync(path, 'utf8')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/ ([.,:)])/g, '$1');

describe('the report of observed apps', () => {
  it('lists accounts and memberships no grant manages, on the app, the person and the overview', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-report-observed-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\nsite/\n');
    commitAll(dir, 'example');
    expect((await runCli(['apply', '--repo', dir, '--at', NOW, '--yes', '--no-push'])).code).toBe(0);
    // By hand: a group role and a login no one is known by inside the managed writer role, and bob made a writer.
    const db = new PGlite(join(dir, '.iden/pglite/analytics'));
    await db.exec(
      'CREATE ROLE reporting NOLOGIN; GRANT analytics_write TO reporting; CREATE ROLE mallory LOGIN; GRANT analytics_write TO mallory; GRANT analytics_write TO bob;',
    );
    await db.close();

    const plain = await runCli(['report', '--repo', dir, '--at', NOW, '--out', join(dir, 'site')]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(text(join(dir, 'site/apps/analytics.html'))).toContain(
      'Not observed: this report shows what the repository says.',
    );

    const made = await runCli([
      'report',
      '--repo',
      dir,
      '--at',
      NOW,
      '--out',
      join(dir, 'site'),
      '--observed',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const analytics = text(join(dir, 'site/apps/analytics.html'));
    expect(analytics).toContain('Observed at 2026-11-27');
    expect(analytics).toContain('3 held in the app that no grant gives.');
    expect(analytics).toContain('bob Bob Okafor bob writer no grant gives it: removed at the next apply');
    expect(analytics).toContain('mallory no one known writer no grant gives it: removed at the next apply');
    expect(analytics).toContain(
      'reporting no one known writer left alone by iden: a role that cannot log in: a group',
    );
    // Bob's own page says what he holds without a grant.
    expect(text(join(dir, 'site/people/bob.html'))).toContain(
      'Held without a grant App Account Access Why analytics bob writer no grant gives it: removed at the next apply',
    );
    // An app that could not be observed says so, and why.
    expect(text(join(dir, 'site/apps/github.html'))).toContain(
      'Not observed at 2026-11-27T13:00:00+01:00: no credentials: ACME_GITHUB_TOKEN is not set.',
    );
    const index = text(join(dir, 'site/index.html'));
    expect(index).toMatch(/Analytics warehouse analytics \d+ with access or scheduled never no cadence 3 /);
    expect(index).toContain('GitHub github');
    expect(index).toMatch(/GitHub github \d+ with access or scheduled never no cadence not observed/);
    expect(text(join(dir, 'site/index.html'))).toContain('what the apps held when observed at');
  }, 120_000);
});
