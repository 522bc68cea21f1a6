// Shell completion, judged by the shell itself: the bash script is sourced by
// a real bash and asked what it completes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/main.js';
import { quietIo, runCli } from '../helpers/cli.js';

function complete(script: string, words: string[]): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'iden-completion-')), 'iden.bash');
  writeFileSync(file, script);
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _iden; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'x',
      file,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

describe('iden completion', () => {
  it('completes commands and each command its own flags, in a real bash', async () => {
    const { code, stdout } = await runCli(['completion', 'bash']);
    expect(code).toBe(0);
    expect(complete(stdout, ['iden', 're']).sort()).toEqual(['reconcile', 'report', 'review', 'revoke']);
    expect(complete(stdout, ['iden', 'grant', '--en'])).toEqual(['--end']);
    expect(complete(stdout, ['iden', 'revoke', '--e'])).toEqual([]);
    expect(complete(stdout, ['iden', 'plan', '--det'])).toEqual(['--detailed-exitcode']);
  });

  it('writes zsh and fish scripts of the same tree, and refuses another shell', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef iden\n/);
    const fish = await runCli(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c iden -n '__fish_seen_subcommand_from grant' -l end");
    const other = await runCli(['completion', 'powershell']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('<shell> must be one of bash, zsh, fish');
  });

  it('says its version to -V and --version', async () => {
    const short = await runCli(['-V']);
    const long = await runCli(['--version']);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(short.stdout).toBe(long.stdout);
  });

  it('groups commands by use in --help, and the --help of every command ends with examples', async () => {
    const help = (await runCli(['--help'])).stdout;
    const groups = [
      'Give, change and see access:',
      'In CI: check, plan and apply:',
      'Audit and review:',
      'Set up and run:',
    ];
    expect(groups.map((g) => help.indexOf(g))).toEqual(
      [...groups.map((g) => help.indexOf(g))].sort((a, b) => a - b),
    );
    expect(help.indexOf('  grant ')).toBeGreaterThan(help.indexOf(groups[0]!));
    expect(help.indexOf('  plan ')).toBeGreaterThan(help.indexOf(groups[1]!));
    const commands = [...help.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(15);
    const without: string[] = [];
    for (const command of commands.filter((c) => c !== 'review' && c !== 'init')) {
      const own = await runCli([command, '--help']);
      if (!/\nExamples:\n {2}\$ .*\biden\b/.test(own.stdout)) without.push(command);
    }
    expect(without).toEqual([]);
  });

  it('defines only the command a command line names, and reads a mistyped one or help as with every command defined', async () => {
    const io = quietIo();
    const all = (await program(io, () => undefined)).commands.map((c) => c.name());
    expect(all.length).toBeGreaterThan(15);
    // Each name loads the module that defines that command, and only it.
    for (const name of all)
      expect((await program(io, () => undefined, {}, name)).commands.map((c) => c.name())).toEqual([name]);
    const typo = await runCli(['audti']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean audit?)');
    const help = await runCli(['help', 'audit']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: iden audit [options]');
    const own = await runCli(['audit', '--help']);
    expect(own.stdout).toBe(help.stdout);
  });
});
