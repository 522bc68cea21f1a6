// Placing findings in a repository read from a commit: a finding in a grant
// file is placed by reading the file again, and a commit's file read alone is
// a git process. The reads go in batches through the tree's prefetch; a tree
// that watches every read tells whether any file was read alone.
import { describe, expect, it } from 'vitest';
import { CommitTree } from '../../src/git/tree.js';
import { loadRepo, loadTree } from '../../src/load/repo.js';
import type { Followed, Tree, TreeEntry } from '../../src/model/tree.js';
import { Standing } from '../../src/reconcile/standing.js';
import { validateRead, validateRepo } from '../../src/validate/validate.js';
import { commitAll, git } from '../helpers/git.js';
import { type FileTree, writeTree } from '../helpers/repo.js';

const AT = Date.parse('2026-12-01T00:00:00Z');

/** A commit's tree, watched: which files were read while no prefetch held them. */
class Watched implements Tree {
  private readonly held = new Set<string>();
  alone: string[] = [];
  prefetches = 0;
  constructor(private readonly base: CommitTree) {}
  get root(): string {
    return this.base.root;
  }
  get commit(): string | undefined {
    return this.base.commit;
  }
  kind(path: string) {
    return this.base.kind(path);
  }
  list(path: string): TreeEntry[] {
    return this.base.list(path);
  }
  follow(path: string): Followed {
    return this.base.follow(path);
  }
  blobId(path: string): string | undefined {
    return this.base.blobId(path);
  }
  async prefetch(paths: readonly string[]): Promise<void> {
    this.prefetches++;
    await this.base.prefetch(paths);
    for (const p of paths) this.held.add(p);
  }
  release(paths: readonly string[]): void {
    this.base.release(paths);
    for (const p of paths) this.held.delete(p);
  }
  read(path: string, limit: number): Uint8Array {
    if (!this.held.has(path)) this.alone.push(path);
    return this.base.read(path, limit);
  }
}

/** Forty people in two apps: half their grants ended by AT (a warning each), some naming no entitlement (an error). */
function repository(): FileTree {
  const people = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const tree: FileTree = {
    'grants/_settings.yaml': 'timezone: UTC\npolicy: { verifyMerges: false }\n',
    // A person a line, and one id twice: a finding in the directory of people too.
    'grants/_people.yaml': `people:\n${[...people, 'p00']
      .map((p, i) => `  - { id: ${p}, name: Person ${i}, email: ${p}-${i}@example.com }\n`)
      .join('')}`,
  };
  for (const app of ['db', 'wh']) {
    tree[`grants/${app}/_app.yaml`] =
      `name: ${app}\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: ${app}_read }\n  - { id: write, kind: role, role: ${app}_write }\n`;
    people.forEach((p, i) => {
      const permission = i % 7 === 3 ? 'writr' : 'read';
      const end = i % 2 === 0 ? `end: 2026-11-${String(1 + (i % 28)).padStart(2, '0')}\n` : '';
      tree[`grants/${app}/${p}.yaml`] = `user: ${p}\napp: ${app}\npermissions: [${permission}]\n${end}`;
    });
  }
  return tree;
}

async function fromCommit(
  dir: string,
): Promise<{ tree: Watched; repo: Awaited<ReturnType<typeof loadTree>> }> {
  const tree = new Watched(await CommitTree.open(dir, git(dir, ['rev-parse', 'HEAD']).trim()));
  const repo = await loadTree(tree);
  tree.alone = [];
  tree.prefetches = 0;
  return { tree, repo };
}

describe('placing findings in a repository read from a commit', () => {
  it('reads the files it places findings in together, never one by one, and places them as from the work tree', async () => {
    const dir = writeTree(repository());
    commitAll(dir, 'grants');
    const expected = validateRepo(await loadRepo(dir), AT);
    const inGrants = new Set(
      expected.diagnostics.filter((d) => /^grants\/(db|wh)\/p/.test(d.file)).map((d) => d.file),
    );
    expect(inGrants.size).toBeGreaterThan(40);
    expect(expected.diagnostics.some((d) => d.file === 'grants/_people.yaml')).toBe(true);

    // Placed one at a time, each file is read alone: what this change ends.
    const single = await fromCommit(dir);
    expect(validateRepo(single.repo, AT)).toEqual(expected);
    expect(single.tree.alone.length).toBeGreaterThanOrEqual(inGrants.size);

    const batched = await fromCommit(dir);
    expect(await validateRead(batched.repo, AT)).toEqual(expected);
    expect(batched.tree.alone).toEqual([]);
    expect(batched.tree.prefetches).toBe(1);

    // iden serve's standing validation: the same, once ready.
    const standing = await fromCommit(dir);
    const facts = new Standing().of(standing.repo);
    await facts.validation.ready(AT + 3_600_000);
    expect(facts.validation.at(AT)).toEqual(expected);
    expect(standing.tree.alone).toEqual([]);
  });
});
