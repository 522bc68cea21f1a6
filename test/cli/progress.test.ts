import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { onTerminal } from '../helpers/pty.js';

/** A fresh clone of the example repository: its embedded database is made from the template built with iden. */
function example(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-progress-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'example');
  return dir;
}

const iden = `IDEN_TEST_NOW=${new Date(TEST_NOW).toISOString()} ${process.execPath} ${join(packageRoot(), 'test/helpers/bin-at.mjs')}`;
/** No CI and no colour settings inherited from whatever runs the tests. */
const CLEAN = { CI: '', NO_COLOR: '', FORCE_COLOR: '' };

describe('progress on a terminal', () => {
  it('says what each app is doing on a real pseudo-terminal: observing, creating its database, applying n/m', async () => {
    const dir = example();
    const session = await onTerminal(`${iden} reconcile --yes --no-push --repo ${dir}`, [], {
      env: CLEAN,
      timeoutMs: 25_000,
    });
    expect(session.code).toBe(0);
    const screen = session.screen.replace(/\r\n/g, '\n');
    expect(screen).toContain('analytics: observing…\n');
    expect(screen).toContain('analytics: creating the embedded database…\n');
    expect(screen).toMatch(/analytics: applying 4\/4\n/);
    // The count goes up in place: no line per change.
    expect(screen).not.toContain('analytics: 4/4 done');
    expect(screen.indexOf('observing')).toBeLessThan(screen.indexOf('creating the embedded database'));
    expect(screen).toContain('Applied: 4 granted, 0 revoked, 0 unchanged, 0 failed.');

    // Nothing to do now: it still says what it observes, and JSON output has no progress lines at all.
    const status = await onTerminal(`${iden} status --repo ${dir}`, [], { env: CLEAN });
    expect(status.screen).toContain('analytics: observing…');
    const json = await onTerminal(`${iden} status --repo ${dir} --format json`, [], { env: CLEAN });
    expect(json.screen).not.toContain('observing');
    expect(JSON.parse(json.screen.slice(json.screen.indexOf('{'))).apps).toHaveLength(3);
  }, 60_000);

  it('in CI, on a terminal or not, keeps only the line per app that says it is done', async () => {
    const dir = example();
    const session = await onTerminal(`${iden} reconcile --yes --no-push --repo ${dir}`, [], {
      env: { ...CLEAN, CI: 'true' },
      timeoutMs: 25_000,
    });
    expect(session.code).toBe(0);
    expect(session.screen).not.toContain('observing');
    expect(session.screen).not.toContain('creating the embedded database');
    expect(session.screen).toContain('analytics: 4/4 done');
  }, 60_000);

  it('leaves output that is not a terminal as it was', async () => {
    const dir = example();
    const result = await runCli(['reconcile', '--yes', '--no-push', '--repo', dir]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('observing');
    expect(result.stderr).not.toContain('creating');
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).toContain('analytics: 4/4 done\n');
    expect(result.stdout).not.toContain('\u001b');
  }, 60_000);
});
