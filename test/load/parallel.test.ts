import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script shared with the benchmarks
import { generateRepo } from '../../bench/generate.mjs';
import { loadRepo } from '../../src/load/repo.js';
import { packageRoot } from '../../src/util/package-root.js';
import { validateRepo } from '../../src/validate/validate.js';
import { writeTree } from '../helpers/repo.js';

describe('loading grants in worker threads', () => {
  it('gives exactly what loading in one thread gives', async () => {
    // The threads run the built worker; npm test builds before it tests.
    expect(existsSync(join(packageRoot(), 'dist/src/load/grant-worker.js'))).toBe(true);
    const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-par-')), {
      people: 600,
      apps: 6,
      grants: 3000,
    });
    writeTree(
      {
        'grants/app-001/person-99999.yaml': 'user: person-99999\napp: app-001\npermissions: [ent-1]\n',
        'grants/app-002/person-00100.yaml': 'user: person-00100\napp: app-002\npermissions: [ent-1\n',
        'grants/app-003/person-00120.yaml':
          'user: person-00120\napp: app-003\npermissions: [ent-1]\ncolour: red\n',
      },
      dir,
    );
    const at = Date.parse('2026-11-27T00:00:00Z');
    const serial = await loadRepo(dir, { threads: 1 });
    const parallel = await loadRepo(dir, { threads: 2 });
    expect(parallel.grants.length).toBe(3001);
    expect(parallel.grants.map((g) => [g.file, g.value])).toEqual(
      serial.grants.map((g) => [g.file, g.value]),
    );
    const diagnostics = validateRepo(parallel, at).diagnostics;
    expect(diagnostics).toEqual(validateRepo(serial, at).diagnostics);
    expect(diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      'grants/app-001/person-99999.yaml:1:7 unknown-user',
      'grants/app-002/person-00100.yaml:4:1 yaml-syntax',
      'grants/app-003/person-00120.yaml:4:1 unknown-field',
    ]);
  });
});
