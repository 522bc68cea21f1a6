import { count } from '../util/plural.js';
import { type CloseResult, counts } from './close.js';
import type { DutyOutcome } from './duties.js';
import type { Reminder } from './remind.js';

/** What `iden review close` prints for one campaign. */
export function printClose(result: CloseResult, prefix = ''): string {
  const lines = result.reviewers.map((r) => {
    const pr = r.pr !== undefined ? ` #${r.pr}` : '';
    if (r.outcome === 'merged') return `${prefix}${r.person}${pr}: merged (${counts(r.decisions)}).`;
    if (r.outcome === 'not-merged')
      return `${prefix}${r.person}${pr}: not merged: ${r.why ?? 'the access policy refuses it'} (iden/policy failed on its head).`;
    if (r.outcome === 'merged-already') return `${prefix}${r.person}${pr}: merged already; left as it is.`;
    return `${prefix}${r.person}: no pull request to merge (its branch was pushed without GitHub).`;
  });
  return `${[...lines, `${prefix}${count(result.calls, 'GitHub request')}.`].join('\n')}\n`;
}

/** Whether the close left a pull request open because the access policy refuses its head: a failed run. */
export function closeRefused(result: CloseResult): boolean {
  return result.reviewers.some((r) => r.outcome === 'not-merged');
}

/** What `iden review remind` prints for one campaign. */
export function printReminders(reminders: readonly Reminder[], calls: number, prefix = ''): string {
  const lines = reminders.map(
    (r) =>
      `${prefix}Reminded ${r.person} on #${r.pr} (${r.lead} before): ${r.notAnswered} not answered; webhook ${r.webhook}.`,
  );
  if (reminders.length === 0) lines.push(`${prefix}No reminder due.`);
  return `${[...lines, `${prefix}${count(calls, 'GitHub request')}.`].join('\n')}\n`;
}

/** What `--all` prints: each campaign acted on, then what it did; failed when one could not be done, or a pull request was refused. */
export function printDuties(outcomes: readonly DutyOutcome[]): { text: string; failed: boolean } {
  let text = '';
  let failed = false;
  for (const o of outcomes) {
    if ('error' in o) {
      failed = true;
      text += `${o.campaign}: could not ${o.action}: ${o.error}\n`;
    } else if (o.action === 'close') {
      failed ||= closeRefused(o.result);
      text += `${o.campaign}: closed\n${printClose(o.result, '  ')}`;
    } else
      text += `${o.campaign}: ${o.lead} before its due date\n${printReminders(o.reminders, o.calls, '  ')}`;
  }
  return { text, failed };
}
