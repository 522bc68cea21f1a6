/**
 * The edits a campaign makes to grant files, as text, so the pull request's
 * diff is one line per grant: `end:` set to the campaign's end with a marker
 * naming the campaign. Keeping an item puts the file back as the protected
 * branch had it.
 */

export function marker(campaign: string): string {
  return `# iden review ${campaign}: ends unless kept`;
}

const END_LINE = /^end:[^\n]*$/m;

/** The grant's text with `end` set to `end` and the campaign's marker. */
export function proposeEnd(text: string, end: string, campaign: string): string {
  const line = `end: ${end} ${marker(campaign)}`;
  if (END_LINE.test(text)) return text.replace(END_LINE, line);
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${line}\n`;
}

/** Whether the text carries this campaign's proposed end. */
export function hasProposal(text: string | undefined, campaign: string): boolean {
  if (text === undefined) return false;
  const m = marker(campaign).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^end:[^\\n]*${m}$`, 'm').test(text);
}
