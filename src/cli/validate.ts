import { repositoryRoot, trackedState } from '../git/state.js';
import { loadRepo } from '../load/repo.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { atOption } from '../model/instant.js';
import { type DiagnosticFormat, formatDiagnostics } from '../report/diagnostics.js';
import { validateRepo } from '../validate/validate.js';
import { EXIT, type Io } from './io.js';

export interface ValidateOptions {
  repo?: string;
  format: DiagnosticFormat;
  at?: string;
}

export async function runValidate(options: ValidateOptions, io: Io): Promise<number> {
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
  io.stdout(formatDiagnostics(diagnostics, options.format));
  return result.ok && tracked.length === 0 ? EXIT.ok : EXIT.failed;
}
