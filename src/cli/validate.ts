// iden validate: every file in grants/ against the schemas and the rest of the repository.
import type { Command } from 'commander';
import type { Diagnostic } from '../model/diagnostics.js';
import type { DiagnosticFormat } from '../report/diagnostics.js';
import { colourOn, EXIT, type Io } from './io.js';
import { choice, examples } from './options.js';

export interface ValidateOptions {
  repo?: string;
  format: DiagnosticFormat;
  at?: string;
}

export function validateCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('validate')
    .description('check every file in grants/ against the schemas and the rest of the repository')
    .option('--repo <dir>', 'the access repository root', '.')
    .option(
      '--format <format>',
      'text, json or github (annotations)',
      choice('--format', ['text', 'json', 'github'] as const),
      'text',
    )
    .option('--at <iso>', 'evaluate dates at this instant instead of now')
    .addHelpText(
      'after',
      examples(
        'iden validate',
        'iden validate --format github                # annotations in a GitHub workflow',
        'iden validate --at 2027-01-01                # as the dates will read then',
      ),
    )
    .action(async (options: ValidateOptions) => done(await runValidate(options, io)));
}

export async function runValidate(options: ValidateOptions, io: Io): Promise<number> {
  const { repositoryRoot, trackedState } = await import('../git/state.js');
  const { loadRepo } = await import('../load/repo.js');
  const { atOption } = await import('../model/instant.js');
  const { formatDiagnostics } = await import('../report/diagnostics.js');
  const { validateRepo } = await import('../validate/validate.js');
  const root = await repositoryRoot(io.cwd, options.repo);
  const repo = await loadRepo(root);
  const at = atOption(options.at, repo, io.clock.now());
  const result = validateRepo(repo, at);
  // State a repository carries under .iden/ would be read as this machine's: an error where it is committed.
  const tracked = (await trackedState(root)).map(
    (file): Diagnostic => ({
      file,
      line: 1,
      column: 1,
      severity: 'error',
      code: 'tracked-state',
      message: `${file} is committed, but .iden/ holds iden's local state, which never comes from the repository: remove it from git (git rm -r --cached .iden)`,
    }),
  );
  const diagnostics = [...result.diagnostics, ...tracked];
  const { paint } = await import('../report/paint.js');
  io.stdout(formatDiagnostics(diagnostics, options.format, paint(colourOn(io) && options.format === 'text')));
  return result.ok && tracked.length === 0 ? EXIT.ok : EXIT.failed;
}
