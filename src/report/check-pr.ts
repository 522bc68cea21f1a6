import { humanTime } from '../model/time.js';
import type { CheckResult, Effect } from '../policy/check-pr.js';
import type { FileVerdict } from '../policy/classify.js';
import { type Paint, plain } from './paint.js';
import { escapeMarkdown as e } from './plan.js';

export type CheckFormat = 'text' | 'json' | 'markdown';

/** The hidden marker by which the pull-request comment is found again and updated. */
export const COMMENT_MARKER = '<!-- iden:check-pr -->';
/** GitHub refuses comments over 65,536 characters. */
export const COMMENT_LIMIT = 65_536;
/** Sections longer than this are folded in <details>. */
const FOLD_ABOVE = 10;

export function formatCheck(
  result: CheckResult,
  format: CheckFormat,
  links?: { server: string; repo: string },
  paint: Paint = plain,
): string {
  const c = paint;
  if (format === 'json') {
    const { ok, files, head, base, problems, diagnostics, effect, scheduled, grants, zone, preview } = result;
    return `${JSON.stringify({ ok, files, head, base, problems, diagnostics, effect, scheduled, grants, zone, ...(preview ? { preview } : {}) }, null, 2)}\n`;
  }
  if (format === 'markdown') return checkMarkdown(result, links);
  const lines: string[] = [];
  for (const p of result.problems) lines.push(`${c('red', 'NO ')} ${p}`);
  for (const f of result.files) {
    lines.push(
      `${f.ok ? c('green', 'ok ') : c('red', 'NO ')} ${c('bold', f.file)}  ${f.change}  ${f.classification}: ${f.reason}`,
    );
    for (const r of f.reviews)
      lines.push(`      ${r.counted ? c('green', '+') : c('dim', '-')} ${reviewer(r)}: ${r.why}`);
    for (const r of f.rules ?? [])
      lines.push(`      rule ${r.met ? c('green', 'met') : c('red', 'NOT met')}: ${r.rule}: ${r.why}`);
  }
  if (result.preview) {
    lines.push(`rule change: ${result.preview.summary}`);
    for (const d of result.preview.grants)
      lines.push(`  ${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`);
  }
  for (const g of result.grants) lines.push(`grant ${g.file}: ${grantLine(g, result.zone)}`);
  for (const d of result.diagnostics)
    lines.push(`${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`);
  lines.push(
    result.ok
      ? c('green', 'The pull request may be merged.')
      : c('red', 'The pull request may not be merged yet.'),
  );
  return `${lines.join('\n')}\n`;
}

function reviewer(r: FileVerdict['reviews'][number]): string {
  return r.person !== undefined && r.person !== r.login ? `${r.login} (${r.person})` : r.login;
}

function what(x: Effect): string {
  return x.entitlement ?? `${x.license} (license)`;
}

function grantLine(g: CheckResult['grants'][number], zone: string): string {
  const access = [...g.permissions, ...(g.license !== undefined ? [`${g.license} (license)`] : [])].join(
    ', ',
  );
  const from = g.start !== undefined ? `from ${g.start}` : 'from when applied';
  const until = g.end !== undefined ? `until ${g.end}` : 'no end';
  return `${g.user} → ${g.app}: ${access}; ${from}, ${until} (${zone})${g.reason !== undefined ? `; reason: ${g.reason}` : ''}`;
}

/** A path as a URL path: every character that could end a Markdown link or start a mention is encoded. */
export function urlPath(path: string): string {
  return path
    .split('/')
    .map((part) =>
      encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

interface Section {
  title: string;
  header: string[];
  rows: string[];
}

/**
 * The pull-request comment: problems, classification per file with its
 * reviews, the grants as written, validation errors linked to their lines,
 * the effect of merging now and what is scheduled. Sections over ten rows are
 * folded; when the whole would pass GitHub's limit each section keeps a fair
 * share of rows and says how many it left out, so none disappears. Everything
 * people wrote is escaped.
 */
export function checkMarkdown(result: CheckResult, links?: { server: string; repo: string }): string {
  const head = [
    COMMENT_MARKER,
    `### iden: ${result.ok ? '✅ this pull request may be merged' : '❌ this pull request may not be merged yet'}`,
    '',
    `Checked at head \`${result.head.slice(0, 7)}\` against base \`${result.base.slice(0, 7)}\`; dates in ${e(result.zone)}.`,
    '',
    ...result.problems.map((p) => `- ❌ ${e(p)}`),
    ...(result.problems.length > 0 ? [''] : []),
  ].join('\n');
  const sections: Section[] = [
    {
      title: 'Files',
      header: ['| file | change | kind | allowed | why |', '|---|---|---|---|---|'],
      rows: result.files.map((f) => {
        const reviews = f.reviews.map((r) => `${r.counted ? '✅' : '➖'} ${e(reviewer(r))}: ${e(r.why)}`);
        const why = [e(f.reason), ...reviews].join('<br>');
        const flags = [...(f.emergency ? ['🚨 emergency'] : []), ...(f.privileged ? ['🔒 privileged'] : [])];
        const kind = [f.classification, ...flags].join('<br>');
        return `| ${e(f.file)} | ${f.change} | ${kind} | ${f.ok ? '✅' : '❌'} | ${why} |`;
      }),
    },
    {
      title: 'Access rules',
      header: ['| file | rule | approvals | met | why |', '|---|---|---|---|---|'],
      rows: result.files.flatMap((f) =>
        (f.rules ?? []).map(
          (r) =>
            `| ${e(f.file)} | ${e(r.rule)} | ${r.counted.length}/${r.needed}${r.counted.length > 0 ? ` (${e(r.counted.join(', '))})` : ''} | ${r.met ? '✅' : '❌'} | ${e(r.why)} |`,
        ),
      ),
    },
    {
      title: `Rule change against every grant in force: ${e(result.preview?.summary ?? '')}`,
      header: [],
      rows: (result.preview?.grants ?? []).map(
        (d) => `- ${e(`${d.file}:${d.line}:${d.column}`)} ${d.severity} \`${d.code}\`: ${e(d.message)}`,
      ),
    },
    {
      title: 'Grants in this pull request',
      header: ['| user | app | access | start | end | reason |', '|---|---|---|---|---|---|'],
      rows: result.grants.map(
        (g) =>
          `| ${e(g.user)} | ${e(g.app)} | ${e([...g.permissions, ...(g.license !== undefined ? [`${g.license} (license)`] : [])].join(', '))} | ${e(g.start ?? 'when applied')} | ${e(g.end ?? 'none')} | ${e(g.reason ?? '')} |`,
      ),
    },
    {
      title: 'Validation',
      header: [],
      rows: result.diagnostics.map((d) => {
        const where = `${d.file}:${d.line}:${d.column}`;
        const link = links
          ? `[${e(where)}](${links.server}/${urlPath(links.repo)}/blob/${result.head}/${urlPath(d.file)}#L${d.line})`
          : e(where);
        return `- ${link} ${d.severity} \`${d.code}\`: ${e(d.message)}`;
      }),
    },
    {
      title: 'What merging grants and revokes now',
      header: ['| | user | app | access |', '|---|---|---|---|'],
      rows: result.effect.map(
        (x) => `| ${x.action === 'grant' ? '➕' : '➖'} | ${e(x.user)} | ${e(x.app)} | ${e(what(x))} |`,
      ),
    },
    {
      title: 'Scheduled',
      header: ['| when | | user | app | access |', '|---|---|---|---|---|'],
      rows: result.scheduled.map(
        (x) =>
          `| ${e(humanTime(Date.parse(x.at), result.zone))} | ${x.action === 'grant' ? '➕' : '➖'} | ${e(x.user)} | ${e(x.app)} | ${e(what(x))} |`,
      ),
    },
  ].filter((s) => s.rows.length > 0);
  const budget = COMMENT_LIMIT - head.length - 1_000;
  const shares = fairShares(
    sections.map((s) => s.rows.reduce((n, r) => n + r.length + 1, 0)),
    budget - sections.length * 300,
  );
  let text = head;
  sections.forEach((section, i) => {
    let used = 0;
    const kept: string[] = [];
    for (const row of section.rows) {
      if (used + row.length + 1 > shares[i]!) break;
      kept.push(row);
      used += row.length + 1;
    }
    const left = section.rows.length - kept.length;
    const fold = section.rows.length > FOLD_ABOVE;
    const open = fold
      ? `<details><summary>${section.title} (${section.rows.length})</summary>\n`
      : `#### ${section.title}\n`;
    const note =
      left > 0
        ? `\n_${left} more rows were left out to stay under GitHub's comment limit; run \`iden check-pr\` locally for all of them._\n`
        : '';
    text += `\n${open}\n${[...section.header, ...kept].join('\n')}\n${note}${fold ? '\n</details>\n' : ''}`;
  });
  return text;
}

/** Splits a budget so small sections keep everything and large ones share the rest evenly. */
function fairShares(sizes: number[], budget: number): number[] {
  const shares = sizes.map(() => 0);
  let remaining = Math.max(budget, 0);
  let open = sizes.map((_, i) => i);
  while (open.length > 0) {
    const share = remaining / open.length;
    const small = open.filter((i) => sizes[i]! <= share);
    if (small.length === 0) {
      for (const i of open) shares[i] = share;
      break;
    }
    for (const i of small) {
      shares[i] = sizes[i]!;
      remaining -= sizes[i]!;
    }
    open = open.filter((i) => !small.includes(i));
  }
  return shares;
}

/**
 * The iden/policy status's description. The verdict holds for this head merged
 * into the protected branch's tip; the description says which. `queued`: the
 * pull request a merge queue's group is for.
 */
export function statusLine(result: CheckResult, branch: string, queued?: number): string {
  const against = `${branch}@${result.base.slice(0, 7)}`;
  if (result.ok)
    return `access policy satisfied against ${against}${queued !== undefined ? ` (merge queue, #${queued})` : ''}`;
  const failing =
    result.problems.length +
    result.files.filter((f) => !f.ok).length +
    (result.diagnostics.some((d) => d.severity === 'error') ? 1 : 0);
  return result.problems[0] ?? `${failing} problem(s) against ${against}: see the iden comment`;
}
