import type { Diagnostic } from '../model/diagnostics.js';

export type DiagnosticFormat = 'text' | 'json' | 'github';

export function formatDiagnostics(diagnostics: Diagnostic[], format: DiagnosticFormat): string {
  const ok = !diagnostics.some((d) => d.severity === 'error');
  if (format === 'json') return `${JSON.stringify({ ok, diagnostics }, null, 2)}\n`;
  if (format === 'github') return diagnostics.map(githubAnnotation).join('');
  const lines = diagnostics.map(
    (d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}\n`,
  );
  return lines.join('') + summary(diagnostics);
}

export function summary(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length === 0) return 'valid: no problems found\n';
  const files = new Set(diagnostics.map((d) => d.file)).size;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}\n`;
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
