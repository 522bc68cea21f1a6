import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ManualClock } from '../../src/model/clock.js';
import { packageRoot } from '../../src/util/package-root.js';
import { answering, TEST_NOW } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { baseRepo, writeTree } from '../helpers/repo.js';

const ESC = '\u001b[';

/** Runs iden in-process with an Io that says whether stdout and stderr are a terminal. */
async function onIo(args: string[], terminal: boolean, env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    clock: new ManualClock(TEST_NOW, { sleeps: 'advance' }),
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    cwd,
    interactive: false,
    questions: async () => answering(false),
    terminal: { stdout: terminal, stderr: terminal },
  });
  return { code, stdout, stderr };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour sequences
const strip = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

describe('colours', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iden-colour-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    commitAll(dir, 'example');
  });

  const commands = () => ({
    status: ['status', '--repo', dir],
    validate: ['validate', '--repo', dir],
    plan: ['plan', '--repo', dir],
    access: ['access', '--repo', dir],
    upcoming: ['upcoming', '--repo', dir, '--within', '30d'],
    audit: ['audit', '--repo', dir],
  });

  for (const name of ['status', 'validate', 'plan', 'access', 'upcoming', 'audit'] as const)
    it(`${name}: on a terminal, not when piped, never with NO_COLOR; FORCE_COLOR forces them`, async () => {
      const args = commands()[name];
      const piped = await onIo(args, false);
      expect(piped.stdout).not.toContain(ESC);
      expect(piped.stdout.length).toBeGreaterThan(0);
      const shown = await onIo(args, true);
      expect(shown.code).toBe(piped.code);
      expect(shown.stdout).toContain(ESC);
      // The same words, only coloured.
      expect(strip(shown.stdout)).toBe(piped.stdout);
      expect((await onIo(args, true, { NO_COLOR: '1' })).stdout).toBe(piped.stdout);
      expect((await onIo(args, true, { TERM: 'dumb' })).stdout).toBe(piped.stdout);
      expect((await onIo(args, true, { FORCE_COLOR: '0' })).stdout).toBe(piped.stdout);
      expect((await onIo(args, false, { FORCE_COLOR: '1' })).stdout).toBe(shown.stdout);
    }, 30_000);

  it('check-pr: its verdicts coloured on a terminal only', async () => {
    const work = writeTree(baseRepo, join(mkdtempSync(join(tmpdir(), 'iden-colour-pr-')), 'work'));
    commitAll(work, 'the access repository');
    git(work, ['checkout', '-q', '-b', 'grant/db/carol']);
    writeFileSync(join(work, 'grants/db/carol.yaml'), 'user: carol\napp: db\npermissions: [readonly]\n');
    commitAll(work, 'grant: carol → db');
    git(work, ['config', 'user.email', 'Bob@example.com']);
    const piped = await onIo(['check-pr'], false, {}, work);
    expect(piped.stdout).toContain('The pull request may be merged.');
    expect(piped.stdout).not.toContain(ESC);
    const shown = await onIo(['check-pr'], true, {}, work);
    expect(shown.stdout).toContain(`${ESC}32mThe pull request may be merged.`);
    expect(strip(shown.stdout)).toBe(piped.stdout);
    expect((await onIo(['check-pr'], true, { NO_COLOR: '1' }, work)).stdout).toBe(piped.stdout);
  });

  it('never colours JSON', async () => {
    const json = await onIo(['status', '--repo', dir, '--format', 'json'], true, { FORCE_COLOR: '1' });
    expect(json.stdout).not.toContain(ESC);
    JSON.parse(json.stdout);
  });
});

describe('errors and notices of every command', () => {
  it('start red (iden:) or yellow (notice:) on a terminal, and plain when piped or with NO_COLOR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-colour-errors-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    commitAll(dir, 'example');
    for (const args of [
      ['access', '--repo', dir, '--user', 'nobody'],
      ['upcoming', '--repo', dir, '--user', 'nobody'],
      ['audit', '--repo', dir, '--app', 'nope'],
    ]) {
      const piped = await onIo(args, false);
      expect(piped.stderr).toMatch(/^iden: /m);
      expect(piped.stderr).not.toContain(ESC);
      const shown = await onIo(args, true);
      expect(shown.code).toBe(piped.code);
      expect(shown.stderr).toContain(`${ESC}31miden:${ESC}39m `);
      expect(strip(shown.stderr)).toBe(piped.stderr);
      expect((await onIo(args, true, { NO_COLOR: '1' })).stderr).toBe(piped.stderr);
    }
  }, 30_000);
});
