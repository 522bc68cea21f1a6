import type { Change } from '../model/access.js';
import { humanTime } from '../model/time.js';
import type { ChangeResult } from '../reconcile/apply.js';
import type { Plan } from '../reconcile/plan.js';
import { count } from '../util/plural.js';
import { paint } from './paint.js';

export type PlanFormat = 'text' | 'json' | 'markdown';

export interface Style {
  color: boolean;
  zone: string;
}

const SIGN = { grant: '+', revoke: '-', drift: '~' } as const;
const COLOR = { '+': '\u001b[32m', '-': '\u001b[31m', '~': '\u001b[33m', '!': '\u001b[36m' } as const;

export function formatPlan(plan: Plan, format: PlanFormat, style: Style): string {
  if (format === 'json') return `${JSON.stringify(plan, null, 2)}\n`;
  if (format === 'markdown') return planMarkdown(plan, style);
  return planText(plan, style);
}

function what(c: Change): string {
  return c.entitlement !== undefined ? c.entitlement : `${c.license} (license)`;
}

export function reasonText(c: Change, zone: string): string {
  const when = c.since ? ` ${humanTime(Date.parse(c.since), zone)}` : '';
  switch (c.reason) {
    case 'new-grant':
      return 'new grant';
    case 'start-reached':
      return `start reached${when}`;
    case 'expired':
      return `expired${when}`;
    case 'removed':
      return 'grant file removed';
    case 'retired':
      return 'retired: no longer in _app.yaml';
    case 'incomplete':
      return 'held in part: completed';
    default:
      return c.reason;
  }
}

function table(rows: string[][], style: Style): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  return rows
    .map((row) => {
      // The sign column is one character wide and takes one space, as in Terraform's plans.
      const line = row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .replace(/^([+~-]) {2}/, '$1 ');
      const sign = row[0] as keyof typeof COLOR;
      return style.color && COLOR[sign] ? `${COLOR[sign]}${line}\u001b[0m` : line;
    })
    .join('\n');
}

function planText(plan: Plan, style: Style): string {
  const out: string[] = [];
  const rows = plan.changes.map((c) => [
    c.reason === 'drift' ? SIGN.revoke : SIGN[c.action],
    c.user,
    c.app,
    what(c),
    reasonText(c, style.zone),
  ]);
  if (rows.length > 0) out.push(table(rows, style), '');
  const unpruned = plan.drift.filter((d) => !plan.changes.some((c) => same(c, d)));
  if (unpruned.length > 0) {
    out.push('Drift, kept because the app does not set prune: true:');
    out.push(
      table(
        unpruned.map((c) => [SIGN.drift, c.user, c.app, what(c), 'no grant gives this']),
        style,
      ),
      '',
    );
  }
  if ((plan.unmanaged ?? []).length > 0) {
    out.push('Held by accounts iden leaves alone (never changed; whoever uses them has this access):');
    out.push(
      table(
        (plan.unmanaged ?? []).map((u) => [
          '!',
          u.account,
          u.app,
          u.entitlement ?? `license ${u.license}`,
          u.why,
        ]),
        style,
      ),
      '',
    );
  }
  const p = paint(style.color);
  for (const h of plan.held)
    out.push(`${p('red', 'held:')} ${h.user} in ${h.app} is left as it is: ${h.reason}`);
  for (const s of plan.skipped)
    out.push(`${s.error ? p('red', 'error:') : p('yellow', 'notice:')} ${s.app} skipped: ${s.reason}`);
  if (plan.held.length + plan.skipped.length > 0) out.push('');
  for (const b of plan.blocked) out.push(`${p('red', 'blocked:')} ${b}`);
  if (plan.blocked.length > 0)
    out.push('Nothing will be changed. Check the plan, then run again with --allow-mass-removal.', '');
  out.push(p('bold', summaryLine(plan)));
  return `${out.join('\n')}\n`;
}

export function summaryLine(plan: Plan): string {
  const grants = plan.changes.filter((c) => c.action === 'grant').length;
  const skipped = plan.skipped.length;
  // Drift removed (prune on) is said among the revocations; drift kept (prune
  // off) and access iden leaves alone are counted too, when there are any.
  const removed = plan.changes.filter((c) => c.reason === 'drift').length;
  const kept = plan.drift.filter((d) => !plan.changes.some((c) => same(c, d))).length;
  const unmanaged = plan.unmanaged?.length ?? 0;
  const revokes = `${plan.changes.length - grants} to revoke${removed > 0 ? ` (${removed} drift)` : ''}`;
  const extra = `${kept > 0 ? `, ${kept} drift kept` : ''}${unmanaged > 0 ? `, ${unmanaged} unmanaged` : ''}`;
  return `Plan: ${grants} to grant, ${revokes}, ${plan.held.length} held${extra}, ${count(skipped, 'app')} skipped.`;
}

function same(a: Change, b: Change): boolean {
  return (
    a.app === b.app && a.account === b.account && a.entitlement === b.entitlement && a.license === b.license
  );
}

/** Escapes text a person wrote so it renders as itself in GitHub Markdown: no markup, HTML or @-mentions. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~>]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/@/g, '@\u200b')
    .replace(/\r?\n/g, ' ');
}

function planMarkdown(plan: Plan, style: Style): string {
  const e = escapeMarkdown;
  const out = ['### iden plan', '', `Evaluated at ${plan.at}. ${summaryLine(plan)}`, ''];
  if (plan.changes.length > 0) {
    out.push('| | user | app | access | reason |', '|---|---|---|---|---|');
    for (const c of plan.changes) {
      out.push(
        `| ${c.action === 'grant' ? '➕' : '➖'} | ${e(c.user)} | ${e(c.app)} | ${e(what(c))} | ${e(reasonText(c, style.zone))} |`,
      );
    }
    out.push('');
  }
  if (plan.drift.length > 0) {
    out.push('<details><summary>Drift</summary>', '', '| user | app | access |', '|---|---|---|');
    for (const d of plan.drift) out.push(`| ${e(d.user)} | ${e(d.app)} | ${e(what(d))} |`);
    out.push('', '</details>', '');
  }
  for (const h of plan.held) out.push(`- held: ${e(h.user)} in ${e(h.app)}: ${e(h.reason)}`);
  for (const s of plan.skipped) out.push(`- skipped: ${e(s.app)}: ${e(s.reason)}`);
  for (const b of plan.blocked) out.push(`- **blocked**: ${e(b)}`);
  return `${out.join('\n')}\n`;
}

export function formatResults(results: ChangeResult[], color = false): string {
  const rows = results.map((r) => [
    r.outcome,
    r.user,
    r.app,
    what(r),
    r.outcome === 'failed' ? (r.error ?? '') : '',
  ]);
  const p = paint(color);
  const hue = { granted: 'green', revoked: 'red', unchanged: 'dim', failed: 'red' } as const;
  const lines =
    results.length > 0
      ? [
          table(rows, { color: false, zone: 'UTC' })
            .replace(/ +$/gm, '')
            .split('\n')
            .map((line, i) => {
              const outcome = results[i]!.outcome;
              return outcome === 'failed' ? p('bold', p('red', line)) : p(hue[outcome], line);
            })
            .join('\n'),
        ]
      : [];
  const n = (o: string) => results.filter((r) => r.outcome === o).length;
  lines.push(
    p(
      'bold',
      `Applied: ${n('granted')} granted, ${n('revoked')} revoked, ${n('unchanged')} unchanged, ${n('failed')} failed.`,
    ),
  );
  return `${lines.join('\n')}\n`;
}
