import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitBytes, runGit } from '../../src/git/run.js';
import { helperPid, runHelped, startHelped } from '../../src/git/spawner.js';
import { commitAll, git } from '../helpers/git.js';

function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-spawner-'));
  // Every byte value, and more than one frame of output (frames carry at most what one read gives).
  writeFileSync(
    join(dir, 'bytes.bin'),
    Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256)),
  );
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  commitAll(dir, 'first');
  return dir;
}

describe('the git helper process', () => {
  it('runs git with its arguments, folder, environment and input, and gives back its bytes and exit code', async () => {
    const dir = repository();
    const blob = git(dir, ['rev-parse', 'HEAD:bytes.bin']).trim();
    const expected = spawnSync('git', ['cat-file', 'blob', blob], { cwd: dir }).stdout;
    const out = await gitBytes(dir, ['cat-file', '--batch'], `${blob}\n`);
    expect(out.subarray(out.indexOf(0x0a) + 1, out.length - 1).equals(expected)).toBe(true);

    const hashed = await runGit(dir, ['hash-object', '--stdin'], [0], { input: 'hello\n' });
    expect(hashed.stdout.trim()).toBe(git(dir, ['rev-parse', 'HEAD:a.txt']).trim());

    const env = { ...process.env, GIT_AUTHOR_NAME: 'Grace Hopper', GIT_AUTHOR_EMAIL: 'grace@example.com' };
    const tree = git(dir, ['rev-parse', 'HEAD^{tree}']).trim();
    const commit = await runGit(dir, ['commit-tree', tree, '-m', 'x'], [0], { env });
    expect(git(dir, ['log', '-1', '--format=%an <%ae>', commit.stdout.trim()]).trim()).toBe(
      'Grace Hopper <grace@example.com>',
    );

    const missing = await runGit(dir, ['rev-parse', '--verify', '--quiet', 'refs/heads/nope'], [0, 1]);
    expect(missing.code).toBe(1);
    await expect(runGit(dir, ['no-such-command'])).rejects.toThrow(/git no-such-command failed \(exit 1\)/);
  });

  it('keeps concurrent processes apart', async () => {
    const dir = repository();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runGit(dir, ['hash-object', '--stdin'], [0], { input: `n${i}\n` }),
      ),
    );
    const direct = results.map((_, i) =>
      spawnSync('git', ['hash-object', '--stdin'], { cwd: dir, input: `n${i}\n` })
        .stdout.toString()
        .trim(),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(direct);
  });

  it.each(['helper', 'direct'] as const)(
    'started by %s: bytes, input, exit codes and a command that cannot start',
    async (by) => {
      const dir = repository();
      const request = (args: string[]) => ({ file: 'git', args, cwd: dir, env: process.env });
      const blob = git(dir, ['rev-parse', 'HEAD:bytes.bin']).trim();
      const expected = spawnSync('git', ['cat-file', 'blob', blob], { cwd: dir }).stdout;
      const out = await runHelped(request(['cat-file', 'blob', blob]), undefined, by);
      expect(out.exit).toEqual({ code: 0, signal: null });
      expect(out.stdout.equals(expected)).toBe(true);
      const hashed = await runHelped(request(['hash-object', '--stdin']), 'hello\n', by);
      expect(hashed.stdout.toString().trim()).toBe(git(dir, ['rev-parse', 'HEAD:a.txt']).trim());
      const failed = await runHelped(request(['no-such-command']), undefined, by);
      expect(failed.exit.code).toBe(1);
      expect(failed.stderr.toString()).toMatch(/no-such-command/);
      const none = await runHelped({ ...request([]), file: 'no-such-program-iden' }, undefined, by);
      expect(none.exit).toMatchObject({ code: -2, error: 'ENOENT' });
      const reading = startHelped(request(['cat-file', '--batch']), by);
      reading.kill('SIGTERM');
      expect(await reading.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    },
  );

  it('says when the helper is killed mid-run; the next call starts a new one', async () => {
    const dir = repository();
    await runHelped({ file: 'git', args: ['--version'], cwd: dir, env: process.env }, undefined, 'helper');

    const first = helperPid();
    expect(first).toBeTypeOf('number');
    const waiting = startHelped(
      { file: 'git', args: ['cat-file', '--batch'], cwd: dir, env: process.env },
      'helper',
    );
    process.kill(first!, 'SIGKILL');
    expect(await waiting.exited).toMatchObject({ code: null, error: 'the git helper process ended' });
    const again = await runHelped(
      { file: 'git', args: ['rev-parse', 'HEAD'], cwd: dir, env: process.env },
      undefined,
      'helper',
    );
    expect(again.stdout.toString().trim()).toMatch(/^[0-9a-f]{40}$/);
    expect(helperPid()).not.toBe(first);
  });

  it.each([
    ['a small process starts git itself', 0, 'direct'],
    ['a process holding 300 MB starts it through the helper', 300, 'helper'],
  ])('%s, and keeps no process alive once idle: a program that used it exits on its own', (_, mb, by) => {
    const dir = repository();
    const dist = join(import.meta.dirname, '../../dist/src/git');
    const program = `const held = Buffer.alloc(${mb} * 1024 * 1024, 1);
    Promise.all([import('${dist}/run.js'), import('${dist}/spawner.js')]).then(async ([{ runGit }, { helperPid }]) => {
      const head = (await runGit(${JSON.stringify(dir)}, ['rev-parse', 'HEAD'])).stdout.trim();
      process.stdout.write(JSON.stringify({ head, by: helperPid() === undefined ? 'direct' : 'helper', held: held.length }));
    });`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    const answer = JSON.parse(run.stdout.toString());
    expect(answer.head).toMatch(/^[0-9a-f]{40}$/);
    expect(answer.by).toBe(by);
  });
});
