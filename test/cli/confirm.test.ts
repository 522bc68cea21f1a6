import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { onTerminal } from '../helpers/pty.js';

const iden = `IDEN_TEST_NOW=${new Date(TEST_NOW).toISOString()} ${process.execPath} ${join(packageRoot(), 'test/helpers/bin-at.mjs')}`;

describe("apply's confirmation", () => {
  it('asks with the prompt every question uses: no changes nothing, yes applies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-confirm-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    commitAll(dir, 'example');
    seedEmbedded(dir, 'analytics');
    const apply = `${iden} apply --app analytics --no-push`;

    const no = await onTerminal(apply, [{ see: /Apply these changes\? \(y\/N\)/, type: 'n\r' }], {
      cwd: dir,
    });
    expect(no.reached, no.screen).toBe(1);
    expect(no.screen).toContain('nothing was changed');
    expect(no.code).toBe(1);

    // Enter alone takes the default, no: applying is never the default.
    const enter = await onTerminal(apply, [{ see: /Apply these changes\? \(y\/N\)/, type: '\r' }], {
      cwd: dir,
    });
    expect(enter.screen).toContain('nothing was changed');
    expect(enter.code).toBe(1);

    const yes = await onTerminal(apply, [{ see: /Apply these changes\? \(y\/N\)/, type: 'y\r' }], {
      cwd: dir,
    });
    expect(yes.screen).toMatch(/Applied: \d+ granted/);
    expect(yes.code, yes.screen).toBe(0);
  }, 60_000);
});
