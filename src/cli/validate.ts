import { resolve } from 'node:path';
import { loadRepo } from '../load/repo.js';
import { type DiagnosticFormat, formatDiagnostics } from '../report/diagnostics.js';
import { validateRepo } from '../validate/validate.js';
import { EXIT, type Io } from './io.js';
import { atOption } from './options.js';

export interface ValidateOptions {
  repo?: string;
  format: DiagnosticFormat;
  at?: string;
}

export async function runValidate(options: ValidateOptions, io: Io): Promise<number> {
  const root = resolve(io.cwd, options.repo ?? '.');
  const repo = await loadRepo(root);
  const at = atOption(options.at, repo, io.clock.now());
  const result = validateRepo(repo, at);
  io.stdout(formatDiagnostics(result.diagnostics, options.format));
  return result.ok ? EXIT.ok : EXIT.failed;
}
