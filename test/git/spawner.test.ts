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

  it('says when the command cannot be started, and when the helper is killed mid-run; the next call starts a new one', async () => {
    const dir = repository();
    const none = await runHelped({ file: 'no-such-program-iden', args: [], cwd: dir, env: process.env });
    expect(none.exit).toMatchObject({ code: -2, error: 'ENOENT' });

    const first = helperPid();
    expect(first).toBeTypeOf('number');
    const waiting = startHelped({ file: 'git', args: ['cat-file', '--batch'], cwd: dir, env: process.env });
    process.kill(first!, 'SIGKILL');
    expect(await waiting.exited).toMatchObject({ code: null, error: 'the git helper process ended' });
    const again = await runGit(dir, ['rev-parse', 'HEAD']);
    expect(again.stdout.trim()).toMatch(/^[0-9a-f]{40}$/);
    expect(helperPid()).not.toBe(first);
  });

  it('ends the git process it was asked to kill', async () => {
    const dir = repository();
    const reading = startHelped({ file: 'git', args: ['cat-file', '--batch'], cwd: dir, env: process.env });
    reading.kill('SIGTERM');
    expect(await reading.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('keeps no process alive once idle: a program that used it exits on its own', () => {
    const dir = repository();
    const program = `import('${join(import.meta.dirname, '../../dist/src/git/run.js')}').then(async ({ runGit }) => {
      process.stdout.write((await runGit(${JSON.stringify(dir)}, ['rev-parse', 'HEAD'])).stdout);
    });`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout.toString().trim()).toMatch(/^[0-9a-f]{40}$/);
  });
});
