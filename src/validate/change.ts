import type { Diagnostic } from '../model/diagnostics.js';
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { validateRepo } from './validate.js';

/**
 * The findings a change brings: every finding in the files it writes, and
 * those that are new elsewhere (`elsewhere`: errors only, every severity, or
 * none), so that a change is not blamed for what was already wrong. `blame`
 * names the files whose lines are placed by blame (as validate's option).
 */
export function changeDiagnostics(
  before: AccessRepo,
  after: AccessRepo,
  at: Instant,
  touched: ReadonlySet<string>,
  options: { blame?: ReadonlySet<string>; elsewhere: 'errors' | 'all' | 'none' },
): Diagnostic[] {
  const found = validateRepo(after, at, options.blame ? { blame: options.blame } : {}).diagnostics;
  if (options.elsewhere === 'none') return found.filter((d) => touched.has(d.file));
  const known = new Set(validateRepo(before, at).diagnostics.map(key));
  return found.filter(
    (d) =>
      touched.has(d.file) || ((options.elsewhere === 'all' || d.severity === 'error') && !known.has(key(d))),
  );
}

function key(d: Diagnostic): string {
  return `${d.file}\u0000${d.code}\u0000${d.message}`;
}
