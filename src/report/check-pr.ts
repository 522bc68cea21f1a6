import type { CheckResult, Effect } from '../policy/check-pr.js';
import { escapeMarkdown as e } from './plan.js';

export type CheckFormat = 'text' | 'json' | 'markdown';

/** The hidden marker by which the pull-request comment is found again and updated. */
export const COMMENT_MARKER = '<!-- iden:check-pr -->';
/** GitHub refuses comments over 65,536 characters; keep a margin for the note that says what was cut. */
export const COMMENT_LIMIT = 65_536;

export function formatCheck(
  result: CheckResult,
  format: CheckFormat,
  links?: { server: string; repo: string },
): string {
  if (format === 'json') {
    const { ok, files, head, base, diagnostics, effect, scheduled } = result;
    return `${JSON.stringify({ ok, files, head, base, diagnostics, effect, scheduled }, null, 2)}\n`;
  }
  if (format === 'markdown') return checkMarkdown(result, links);
  const lines = result.files.map(
    (f) => `${f.ok ? 'ok ' : 'NO '} ${f.file}  ${f.change}  ${f.classification}: ${f.reason}`,
  );
  for (const d of result.diagnostics)
    lines.push(`${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`);
  lines.push(result.ok ? 'The pull request may be merged.' : 'The pull request may not be merged yet.');
  return `${lines.join('\n')}\n`;
}

function what(x: Effect): string {
  return x.entitlement ?? `${x.license} (license)`;
}

/**
 * The pull-request comment: classification per file, the effect of merging
 * now, what is scheduled, and validation errors linked to their lines. Long
 * sections are folded; the whole is kept under GitHub's limit, saying so when
 * rows were cut. Everything people wrote is escaped.
 */
export function checkMarkdown(result: CheckResult, links?: { server: string; repo: string }): string {
  const head = [
    COMMENT_MARKER,
    `### iden: ${result.ok ? '✅ this pull request may be merged' : '❌ this pull request may not be merged yet'}`,
    '',
    `Checked at head \`${result.head.slice(0, 7)}\` against base \`${result.base.slice(0, 7)}\`.`,
    '',
  ];
  const sections: { title: string; header: string[]; rows: string[]; fold: boolean }[] = [
    {
      title: 'Files',
      header: ['| file | change | kind | allowed | why |', '|---|---|---|---|---|'],
      rows: result.files.map(
        (f) =>
          `| ${e(f.file)} | ${f.change} | ${f.classification} | ${f.ok ? '✅' : '❌'} | ${e(f.reason)} |`,
      ),
      fold: false,
    },
    {
      title: 'Validation',
      header: [],
      rows: result.diagnostics.map((d) => {
        const where = `${d.file}:${d.line}:${d.column}`;
        const link = links
          ? `[${e(where)}](${links.server}/${links.repo}/blob/${result.head}/${encodeURI(d.file)}#L${d.line})`
          : e(where);
        return `- ${link} ${d.severity} \`${d.code}\`: ${e(d.message)}`;
      }),
      fold: false,
    },
    {
      title: 'What merging grants and revokes now',
      header: ['| | user | app | access |', '|---|---|---|---|'],
      rows: result.effect.map(
        (x) => `| ${x.action === 'grant' ? '➕' : '➖'} | ${e(x.user)} | ${e(x.app)} | ${e(what(x))} |`,
      ),
      fold: result.effect.length > 20,
    },
    {
      title: 'Scheduled',
      header: ['| when | | user | app | access |', '|---|---|---|---|---|'],
      rows: result.scheduled.map(
        (x) =>
          `| ${x.at} | ${x.action === 'grant' ? '➕' : '➖'} | ${e(x.user)} | ${e(x.app)} | ${e(what(x))} |`,
      ),
      fold: result.scheduled.length > 20,
    },
  ];
  const budget = COMMENT_LIMIT - 400;
  let text = head.join('\n');
  let cut = 0;
  for (const section of sections) {
    if (section.rows.length === 0) continue;
    const open = section.fold
      ? [`<details><summary>${section.title} (${section.rows.length})</summary>`, '']
      : [`#### ${section.title}`, ''];
    const close = section.fold ? ['', '</details>', ''] : [''];
    let block = [...open, ...section.header].join('\n');
    for (const row of section.rows) {
      if (text.length + block.length + row.length + 40 > budget) {
        cut++;
        continue;
      }
      block += `\n${row}`;
    }
    text += `\n${block}\n${close.join('\n')}`;
  }
  if (cut > 0)
    text += `\n_${cut} more rows were left out to stay under GitHub's comment limit; run \`iden check-pr\` locally for all of them._\n`;
  return text;
}
