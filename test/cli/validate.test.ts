import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli, validateJson } from '../helpers/cli.js';
import { repoWith } from '../helpers/repo.js';

const AT = ['--at', '2026-11-27T12:00:00Z'];

describe('iden validate', () => {
  it('prints compiler-style lines and a summary, exit 1 when invalid', async () => {
    const dir = repoWith({
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions:\n  - readonly\n  - writr\n',
    });
    const { code, stdout } = await runCli(['validate', '--repo', dir, ...AT]);
    expect(code).toBe(1);
    expect(stdout).toBe(
      'grants/db/alice.yaml:5:5 error unknown-permission: "writr" is not an entitlement of app "db" (did you mean "writer"?)\n' +
        '1 error, 0 warnings in 1 file\n',
    );
  });

  it('exits 0 with warnings only', async () => {
    const dir = repoWith({
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nend: 2026-11-01\n',
    });
    const { code, json } = await validateJson(dir);
    expect(code).toBe(0);
    expect(json).toEqual({
      ok: true,
      diagnostics: [
        {
          file: 'grants/db/alice.yaml',
          line: 4,
          column: 6,
          severity: 'warning',
          code: 'grant-expired',
          message: expect.stringContaining('ended 2026-11-01'),
        },
      ],
    });
  });

  it('writes GitHub annotations with %, newlines, colons and commas escaped', async () => {
    const dir = repoWith({ 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: ["a,b:c%d"]\n' });
    const { code, stdout } = await runCli(['validate', '--repo', dir, '--format', 'github', ...AT]);
    expect(code).toBe(1);
    expect(stdout.split('\n')[0]).toBe(
      "::error file=grants/db/alice.yaml,line=3,col=15,title=iden invalid-field::\"a,b:c%25d\" is not valid for \"permissions[0]\": expected an entitlement id of lowercase letters, digits, '.', '_' or '-'",
    );
  });

  it('reports every problem of every file in one run', async () => {
    const dir = repoWith({
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [nope]\n',
      'grants/gh/bob.yaml': 'user: bob\napp: gh\npermissions: [engineering]\n',
      'grants/db/zed.yaml': 'user: zed\napp: db\npermissions: [readonly]\n',
    });
    const { json } = await validateJson(dir);
    expect(json.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual([
      'grants/db/alice.yaml unknown-permission',
      'grants/db/zed.yaml unknown-user',
      'grants/gh/bob.yaml license-required',
    ]);
  });

  it('defaults --repo to the current folder', async () => {
    const dir = repoWith({});
    const { code, stdout } = await runCli(['validate', ...AT], { cwd: dir });
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'valid: no problems found\n' });
  });

  it('exits 2 on usage errors', async () => {
    const dir = repoWith({});
    expect((await runCli(['validate', '--repo', dir, '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['validate', '--repo', dir, '--at', 'next tuesday'])).code).toBe(2);
    const missing = await runCli(['validate', '--repo', join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no grants\/ folder/);
    expect((await runCli(['valdate'])).code).toBe(2);
  });

  it('passes the example repository without a single note', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-example-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    const { code, json } = await validateJson(dir);
    expect(code).toBe(0);
    expect(json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}`)).toEqual(
      [],
    );
  });
});
