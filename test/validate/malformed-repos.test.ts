import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { validateJson } from '../helpers/cli.js';
import { repoWith } from '../helpers/repo.js';
import { cases } from './malformed-cases.js';

describe('malformed access repositories', () => {
  it('has at least 30 of them', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('rejects $name', async ({ changes, setup, expected }) => {
    const dir = repoWith(changes);
    setup?.(dir);
    const { code, json } = await validateJson(dir);
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    const match = json.diagnostics.find((d) => d.code === expected.code && d.file === expected.file);
    expect(match, JSON.stringify(json.diagnostics, null, 1)).toBeDefined();
    expect({ line: match?.line, column: match?.column }).toEqual({
      line: expected.line,
      column: expected.column,
    });
    expect(match?.severity).toBe('error');
    if (expected.message) expect(match?.message).toMatch(expected.message);
  });

  // The built CLI checks files with the schemas compiled at build time (ajv's
  // standalone code); the tests run the source, which compiles them at start.
  it('gives the same diagnostics built as from source, on every case', async () => {
    expect(existsSync(join(packageRoot(), 'dist/src/schema/validators.js')), 'run npm run build').toBe(true);
    const dirs = cases.map(({ changes, setup }) => {
      const dir = repoWith(changes);
      setup?.(dir);
      return dir;
    });
    const at = '2026-11-27T12:00:00Z';
    // Every case through the built CLI's main in one Node process (plain Node, as bin.js runs it).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(packageRoot(), 'test/helpers/built-runs.mjs'),
        JSON.stringify(dirs.map((dir) => ['validate', '--repo', dir, '--format', 'json', '--at', at])),
      ],
      { env: { ...process.env, IDEN_TEST_NOW: at }, maxBuffer: 1 << 26 },
    );
    const built = JSON.parse(stdout) as { stdout: string }[];
    for (const [i, dir] of dirs.entries())
      expect(JSON.parse(built[i]!.stdout), cases[i]!.name).toEqual((await validateJson(dir)).json);
  });

  it('accepts the base repository unchanged', async () => {
    const { code, json } = await validateJson(repoWith({}));
    expect(json.diagnostics).toEqual([]);
    expect(code).toBe(0);
  });
});
