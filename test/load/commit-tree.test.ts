import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommitTree } from '../../src/git/tree.js';
import { loadRepo, loadTree } from '../../src/load/repo.js';
import { validateRepo } from '../../src/validate/validate.js';
import { commitAll, git } from '../helpers/git.js';
import { repoWith } from '../helpers/repo.js';
import { cases } from '../validate/malformed-cases.js';

const AT = Date.parse('2026-11-27T12:00:00Z');

async function both(dir: string) {
  commitAll(dir, 'state');
  const head = git(dir, ['rev-parse', 'HEAD']).trim();
  const fromDisk = validateRepo(await loadRepo(dir), AT).diagnostics;
  const fromCommit = validateRepo(await loadTree(await CommitTree.open(dir, head)), AT).diagnostics;
  return { fromDisk, fromCommit };
}

describe('a repository read from a commit', () => {
  // An empty folder is something git cannot hold; every other case reads the same from a commit.
  const committable = cases.filter((c) => c.name !== 'a folder inside an app folder');

  it.each(committable)('reports $name exactly as the work tree does', async ({ changes, setup }) => {
    const dir = repoWith(changes);
    setup?.(dir);
    const { fromDisk, fromCommit } = await both(dir);
    expect(fromCommit).toEqual(fromDisk);
    expect(fromCommit.length).toBeGreaterThan(0);
  });

  it('reads no symbolic link under grants/, wherever it leads, and says so as the work tree does', async () => {
    const dir = repoWith({ 'shared/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n' });
    symlinkSync('../../shared/carol.yaml', join(dir, 'grants/db/carol.yaml'));
    mkdirSync(join(dir, 'elsewhere/ops'), { recursive: true });
    writeFileSync(
      join(dir, 'elsewhere/ops/_app.yaml'),
      'name: Ops\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: ops_read }\n',
    );
    writeFileSync(join(dir, 'elsewhere/ops/bob.yaml'), 'user: bob\napp: ops\npermissions: [readonly]\n');
    symlinkSync('../elsewhere/ops', join(dir, 'grants/ops'));
    symlinkSync('carol.yaml', join(dir, 'grants/db/bob.yaml'));
    mkdirSync(join(dir, 'schemas'), { recursive: true });
    symlinkSync('../shared/carol.yaml', join(dir, 'schemas/grant.schema.json'));
    const { fromDisk, fromCommit } = await both(dir);
    expect(fromCommit).toEqual(fromDisk);
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const repo = await loadTree(await CommitTree.open(dir, head));
    expect(repo.grants.map((g) => [g.file, g.source])).toEqual([
      ['grants/db/alice.yaml', 'grants/db/alice.yaml'],
      ['grants/gh/bob.yaml', 'grants/gh/bob.yaml'],
    ]);
    expect(fromCommit.map((d) => `${d.file} ${d.code}`)).toEqual([
      'grants/db/bob.yaml symlink',
      'grants/db/carol.yaml symlink',
      'grants/ops symlink',
      'schemas/grant.schema.json symlink',
    ]);
  });

  it('never reads what is uncommitted', async () => {
    const dir = repoWith({});
    commitAll(dir, 'base');
    writeFileSync(join(dir, 'grants/db/carol.yaml'), 'user: carol\napp: db\npermissions: [readonly]\n');
    writeFileSync(join(dir, 'grants/db/alice.yaml'), 'user: alice\napp: db\npermissions: [nonsense]\n');
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const repo = await loadTree(await CommitTree.open(dir, head));
    expect(repo.grants.map((g) => g.file)).toEqual(['grants/db/alice.yaml', 'grants/gh/bob.yaml']);
    expect(validateRepo(repo, AT).diagnostics).toEqual([]);
  });
});
