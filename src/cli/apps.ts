// iden apps: the connected apps, for a CI matrix.
import type { Command } from 'commander';
import { EXIT, type Io } from './io.js';
import { choice, examples } from './options.js';

export function appsCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('apps')
    .description('list the connected apps (for a CI matrix)')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .addHelpText('after', examples('iden apps --format json                      # a CI matrix of apps'))
    .action(async (options: { repo?: string; format: 'text' | 'json' }) => done(await runApps(options, io)));
}

export async function runApps(options: { repo?: string; format: 'text' | 'json' }, io: Io): Promise<number> {
  const { loadRepo } = await import('../load/repo.js');
  const { repositoryRoot } = await import('../git/state.js');
  const repo = await loadRepo(await repositoryRoot(io.cwd, options.repo));
  const ids = [...repo.apps.keys()];
  io.stdout(options.format === 'json' ? `${JSON.stringify(ids)}\n` : ids.map((id) => `${id}\n`).join(''));
  return EXIT.ok;
}
