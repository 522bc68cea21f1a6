import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { TEST_NOW } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';

const run = promisify(execFile);

describe('a saved plan', () => {
  it('is applied with nothing from the schema library on the console, and a bad instant in it is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-plan-file-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\nplan.json\n');
    commitAll(dir, 'example');
    const bin = join(packageRoot(), 'test/helpers/bin-at.mjs');
    const env = { ...process.env, IDEN_TEST_NOW: new Date(TEST_NOW).toISOString(), CI: '' };
    const iden = (...args: string[]) =>
      run(process.execPath, [bin, ...args, '--repo', dir], { cwd: dir, env }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    await iden('plan', '--out', join(dir, 'plan.json'));
    const applied = await iden('apply', join(dir, 'plan.json'), '--yes', '--no-push');
    expect(applied.stdout).toContain('Applied:');
    expect(applied.stderr).not.toMatch(/unknown format|ajv/i);

    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    plan.at = '27/11/2026';
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const refused = (await iden('apply', join(dir, 'plan.json'), '--yes', '--no-push')) as {
      code?: number;
      stderr: string;
    };
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'is not a plan written by iden plan --out: /at must match format "date-time"',
    );
  }, 120_000);
});
