import { error, type Finding, warning } from '../../model/diagnostics.js';
import { humanTime, type Instant, isTimeZone, parseTime } from '../../model/time.js';
import type { RuleContext } from '../context.js';

/** Dates must be real, an end must come after its start, and an ended grant should leave the repository. */
export function grantDates(ctx: RuleContext): Finding[] {
  return dateFindings(ctx).flatMap((f) => (f.from === undefined || f.from <= ctx.at ? [f.finding()] : []));
}

/**
 * grantDates' findings in order, each with the instant it holds from (an
 * expired grant's warning) or none (it holds at any instant): what a caller
 * judging one repository at many instants computes once.
 */
export function dateFindings(ctx: Pick<RuleContext, 'grants' | 'zone'>): DateFinding[] {
  const findings: DateFinding[] = [];
  const always = (finding: Finding) => findings.push({ file: finding.file, finding: () => finding });
  for (const grant of ctx.grants) {
    const { file } = grant;
    const start = grant.start === undefined ? undefined : parseTime(grant.start, ctx.zone);
    const end = grant.end === undefined ? undefined : parseTime(grant.end, ctx.zone);
    if (start && !start.ok) always(error(file, 'invalid-date', `start: ${start.message}`, ['start']));
    if (end && !end.ok) always(error(file, 'invalid-date', `end: ${end.message}`, ['end']));
    if (start?.ok && end?.ok && end.at <= start.at) {
      always(
        error(
          file,
          'end-before-start',
          `end (${grant.end}) must be after start (${grant.start}); end is exclusive`,
          ['end'],
        ),
      );
    } else if (end?.ok) {
      const ended = end.at;
      findings.push({
        file,
        from: ended,
        // Made only when it holds: most grants never get it.
        finding: () =>
          warning(
            file,
            'grant-expired',
            `the grant ended ${humanTime(ended, ctx.zone)}; its access is removed, delete the file (reconcile --commit does)`,
            ['end'],
          ),
      });
    }
  }
  return findings;
}

export interface DateFinding {
  file: string;
  /** Holds at instants from this one on; undefined: at any instant. */
  from?: Instant;
  finding: () => Finding;
}

/** The settings' timezone must be an IANA zone, since bare dates are read in it. */
export function settingsTimezone(ctx: RuleContext): Finding[] {
  const settings = ctx.repo.settings;
  const zone = settings?.raw?.timezone;
  if (!settings || typeof zone !== 'string' || isTimeZone(zone)) return [];
  return [
    error(
      settings.file,
      'invalid-timezone',
      `"${zone}" is not an IANA time zone; use a name like Europe/Berlin, America/New_York or UTC`,
      ['timezone'],
    ),
  ];
}
