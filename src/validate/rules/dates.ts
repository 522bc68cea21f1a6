import { error, type Finding, warning } from '../../model/diagnostics.js';
import { humanTime, isTimeZone, parseTime } from '../../model/time.js';
import type { RuleContext } from '../context.js';

/** Dates must be real, an end must come after its start, and an ended grant should leave the repository. */
export function grantDates(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const grant of ctx.grants) {
    const { file } = grant;
    const start = grant.start === undefined ? undefined : parseTime(grant.start, ctx.zone);
    const end = grant.end === undefined ? undefined : parseTime(grant.end, ctx.zone);
    if (start && !start.ok) findings.push(error(file, 'invalid-date', `start: ${start.message}`, ['start']));
    if (end && !end.ok) findings.push(error(file, 'invalid-date', `end: ${end.message}`, ['end']));
    if (start?.ok && end?.ok && end.at <= start.at) {
      findings.push(
        error(
          file,
          'end-before-start',
          `end (${grant.end}) must be after start (${grant.start}); end is exclusive`,
          ['end'],
        ),
      );
    } else if (end?.ok && end.at <= ctx.at) {
      findings.push(
        warning(
          file,
          'grant-expired',
          `the grant ended ${humanTime(end.at, ctx.zone)}; its access is removed, delete the file (reconcile --commit does)`,
          ['end'],
        ),
      );
    }
  }
  return findings;
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
