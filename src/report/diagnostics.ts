import type { Diagnostic } from '../model/diagnostics.js';
import { count } from '../util/plural.js';
import { type Paint, plain } from './paint.js';

export type DiagnosticFormat = 'text' | 'json' | 'github';

/** Diagnostics as text (`p` colours it on a terminal), JSON or GitHub annotations. */
export function formatDiagnostics(
  diagnostics: Diagnostic[],
  format: DiagnosticFormat,
  p: Paint = plain,
): string {
  const ok = !diagnostics.some((d) => d.severity === 'error');
  if (format === 'json') return `${JSON.stringify({ ok, diagnostics }, null, 2)}\n`;
  if (format === 'github') return diagnostics.map(githubAnnotation).join('');
  const lines = diagnostics.map(
    (d) =>
      `${p('bold', `${d.file}:${d.line}:${d.column}`)} ${p(d.severity === 'error' ? 'red' : 'yellow', d.severity)} ${p('dim', `${d.code}:`)} ${d.message}\n`,
  );
  const total = summary(diagnostics);
  return (
    lines.join('') + p(diagnostics.length === 0 ? 'green' : ok ? 'yellow' : 'red', total.slice(0, -1)) + '\n'
  );
}

export function summary(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length === 0) return 'valid: no problems found\n';
  const files = new Set(diagnostics.map((d) => d.file)).size;
  return `${count(errors, 'error')}, ${count(warnings, 'warning')} in ${count(files, 'file')}\n`;
}

/** A workflow command; GitHub requires %, CR and LF escaped in data, and also : and , in properties. */
function githubAnnotation(d: Diagnostic): string {
  const level = d.severity === 'error' ? 'error' : 'warning';
  const props = `file=${escapeProperty(d.file)},line=${d.line},col=${d.column},title=${escapeProperty(`iden ${d.code}`)}`;
  return `::${level} ${props}::${escapeData(d.message)}\n`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
