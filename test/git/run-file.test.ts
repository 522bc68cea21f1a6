import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBlobs } from '../../src/git/blobs.js';
import { gitBytes, gitBytesThroughFile, gitOut, gitOutput } from '../../src/git/run.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';

/** git's output through a file (a long log, thousands of blobs) is exactly what the pipe gives, and leaves no file. */
describe('git output through a file', () => {
  const files = Object.fromEntries(
    Array.from({ length: 300 }, (_, i) => [
      `grants/db/p${i}.yaml`,
      `user: p${i}\napp: db\n${'x'.repeat(i * 7)}\n`,
    ]),
  );
  const dir = writeTree({ ...files, 'grants/db/ü.yaml': 'user: ü\n', 'grants/db/empty.yaml': '' });
  commitAll(dir, 'Set up');
  /**
   * Runs `check` with the temporary folder one of its own, and gives what it left there:
   * the shared one also holds other test files' outputs while they run.
   */
  const leftBy = async (check: () => Promise<void>): Promise<string[]> => {
    const own = mkdtempSync(join(tmpdir(), 'iden-run-file-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = own;
    try {
      await check();
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    return readdirSync(own);
  };

  it('reads cat-file --batch and git log as the pipe does', async () => {
    const left = await leftBy(async () => {
      const ids = (await gitOut(dir, ['ls-tree', '-r', '--format=%(objectname)', 'HEAD']))
        .split('\n')
        .filter(Boolean);
      const input = `${[...ids, 'HEAD', '0'.repeat(40)].join('\n')}\n`;
      const args = ['cat-file', '--batch', '--buffer'];
      expect(await gitBytesThroughFile(dir, args, input)).toEqual(await gitBytes(dir, args, input));
      const many = await readBlobs(dir, ids, { many: true });
      expect(many).toEqual(await readBlobs(dir, ids));
      expect(many.size).toBe(302);
      const log = ['log', '--raw', '-z', '--format=%x00%H%x00%s', 'HEAD', '--', 'grants/'];
      expect(await gitOutput(dir, log)).toBe(await gitOut(dir, log));
    });
    expect(left).toEqual([]);
  });

  it('fails as gitBytes fails when git does, and leaves no file', async () => {
    const left = await leftBy(async () => {
      await expect(gitBytesThroughFile(dir, ['cat-file', '--no-such-option'], '')).rejects.toThrow(
        /git cat-file failed/,
      );
      await expect(gitOutput(dir, ['log', 'no-such-ref'])).rejects.toThrow(/git log failed/);
    });
    expect(left).toEqual([]);
  });
  it('goes through the pipe where no temporary folder can be made', async () => {
    const ids = (await gitOut(dir, ['ls-tree', '-r', '--format=%(objectname)', 'HEAD']))
      .split('\n')
      .filter(Boolean);
    const input = `${ids.join('\n')}\n`;
    const log = ['log', '--raw', '-z', '--format=%x00%H%x00%s', 'HEAD', '--', 'grants/'];
    const pipe = { blobs: await gitBytes(dir, ['cat-file', '--batch'], input), log: await gitOut(dir, log) };
    const before = process.env.TMPDIR;
    process.env.TMPDIR = `${dir}/no-such-folder/below`;
    try {
      expect(await gitBytesThroughFile(dir, ['cat-file', '--batch'], input)).toEqual(pipe.blobs);
      expect(await gitOutput(dir, log)).toBe(pipe.log);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
});
