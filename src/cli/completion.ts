// iden completion bash|zsh|fish: a shell completion script, made from the
// command tree itself so that it names every command and flag there is.
import type { Command } from 'commander';
import { EXIT, type Io } from './io.js';
import { choice } from './options.js';

type Shell = 'bash' | 'zsh' | 'fish';

export function completionCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish', choice('<shell>', ['bash', 'zsh', 'fish'] as const))
    .addHelpText(
      'after',
      `
Examples:
  $ source <(iden completion bash)                  # in ~/.bashrc
  $ iden completion zsh > "\${fpath[1]}/_iden"       # then restart zsh
  $ iden completion fish > ~/.config/fish/completions/iden.fish`,
    )
    .action((shell: Shell) => {
      io.stdout(completionScript(cli, shell));
      done(EXIT.ok);
    });
}

/** The commands and their long flags, as the shell offers them. */
function tree(cli: Command): { name: string; about: string; flags: { flag: string; about: string }[] }[] {
  return cli.commands.map((c) => ({
    name: c.name(),
    about: c.description(),
    flags: [
      ...c.options.flatMap((o) => (o.long ? [{ flag: o.long, about: o.description }] : [])),
      { flag: '--help', about: 'show help' },
    ],
  }));
}

export function completionScript(cli: Command, shell: Shell): string {
  const commands = tree(cli);
  if (shell === 'fish') {
    const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const lines = ['# iden completion for fish', 'complete -c iden -f'];
    for (const c of commands) {
      lines.push(`complete -c iden -n __fish_use_subcommand -a ${c.name} -d ${quote(c.about)}`);
      for (const f of c.flags)
        lines.push(
          `complete -c iden -n '__fish_seen_subcommand_from ${c.name}' -l ${f.flag.slice(2)} -d ${quote(f.about)}`,
        );
    }
    return `${lines.join('\n')}\n`;
  }
  const cases = commands.map((c) => `    ${c.name}) flags="${c.flags.map((f) => f.flag).join(' ')}" ;;`);
  const bash = `_iden() {
  local cur=\${COMP_WORDS[COMP_CWORD]} flags
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    *) flags="--help" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _iden iden
`;
  if (shell === 'bash') return `# iden completion for bash\n${bash}`;
  // zsh runs the same function through its bash completion layer.
  return `#compdef iden\n# iden completion for zsh\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
