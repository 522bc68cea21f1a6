import type { Diagnostic } from '../model/diagnostics.js';
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { validateRead } from './validate.js';

interface ChangeOptions {
  /** The files whose lines are placed by blame (as validate's option). */
  blame?: ReadonlySet<string>;
  /** Which findings outside the written files count: new errors, every new finding, or none. */
  elsewhere: 'errors' | 'all' | 'none';
}

/**
 * The findings a change brings: every finding in the files it writes, and
 * those that are new elsewhere, so that a change is not blamed for what was
 * already wrong.
 */
export async function changeDiagnostics(
  before: AccessRepo,
  after: AccessRepo,
  at: Instant,
  touched: ReadonlySet<string>,
  options: ChangeOptions,
): Promise<Diagnostic[]> {
  return (await changeFindings(before, after, at, touched, options)).diagnostics;
}

/** changeDiagnostics, with every finding after the change and the keys of those before it (when read). */
export async function changeFindings(
  before: AccessRepo,
  after: AccessRepo,
  at: Instant,
  touched: ReadonlySet<string>,
  options: ChangeOptions,
): Promise<{ diagnostics: Diagnostic[]; after: Diagnostic[]; known: Set<string> }> {
  const found = (await validateRead(after, at, options.blame ? { blame: options.blame } : {})).diagnostics;
  if (options.elsewhere === 'none')
    return { diagnostics: found.filter((d) => touched.has(d.file)), after: found, known: new Set() };
  const known = new Set((await validateRead(before, at)).diagnostics.map(diagnosticKey));
  const diagnostics = found.filter(
    (d) =>
      touched.has(d.file) ||
      ((options.elsewhere === 'all' || d.severity === 'error') && !known.has(diagnosticKey(d))),
  );
  return { diagnostics, after: found, known };
}

/** What makes two findings the same finding, before and after a change. */
export function diagnosticKey(d: Diagnostic): string {
  return `${d.file}\u0000${d.code}\u0000${d.message}`;
}
