import type { GrantFile, SettingsFile } from '../model/repo.js';
import { humanTime, type Instant } from '../model/time.js';
import type { Window } from '../model/window.js';
import { addDuration, emergencyWindow } from './resolve.js';

/**
 * An emergency grant's window as apply sees it: it ends when its end says,
 * or when the settings' window for approving it after the fact runs out,
 * whichever comes first. Approval after the fact is a pull request that
 * removes emergency: true (judged like any change); until then the next run
 * past the window removes the access. Other grants are left as they are.
 */
export function emergencyCut(
  grant: Pick<GrantFile, 'emergency'>,
  window: Window | undefined,
  duration: string,
  zone: string,
): Window | undefined {
  if (!window || grant.emergency !== true || window.start === undefined) return window;
  const deadline = addDuration(window.start, duration, zone);
  if (deadline === undefined || (window.end !== undefined && window.end <= deadline)) return window;
  return { start: window.start, end: deadline };
}

/** When an emergency grant must have been approved by, for views and the audit. */
export function approveBy(
  grant: Pick<GrantFile, 'emergency'>,
  window: Window | undefined,
  settings: SettingsFile | undefined,
  zone: string,
): Instant | undefined {
  if (grant.emergency !== true || window?.start === undefined) return undefined;
  return addDuration(window.start, emergencyWindow(settings), zone);
}

/** An emergency grant applied in a run, as the notice says it: who, what, why, until when. */
export interface EmergencyNotice {
  file: string;
  user: string;
  app: string;
  what: string[];
  text: string;
  /** Whether the notify webhook took it; why not otherwise. */
  sent: boolean;
  why?: string;
}

/** The text of the notice of emergency access applied. */
export function emergencyText(
  grant: GrantFile,
  what: readonly string[],
  window: Window | undefined,
  settings: SettingsFile | undefined,
  zone: string,
): string {
  const until = window?.end !== undefined ? humanTime(window.end, zone) : 'no end';
  const by = approveBy(grant, window, settings, zone);
  return `🚨 Emergency access applied: ${grant.user} → ${grant.app} (${what.join(', ')}) until ${until}. Why: ${grant.reason ?? 'no reason given'}. It must be approved after the fact (a pull request removing emergency: true from grants/${grant.app}/${grant.user}.yaml)${by !== undefined ? ` by ${humanTime(by, zone)}` : ''}, or the next run removes it.`;
}

/**
 * The window `iden grant --emergency` writes: from now, to the end asked for
 * or else the shortest emergency.maxDuration of the rules the access falls
 * under. An Error says why there is none: no rule allows emergency access,
 * or the end asked for is past what they allow.
 */
export function emergencySchedule(
  rules: readonly { name: string; emergency?: { maxDuration: string } }[],
  what: string,
  now: Instant,
  zone: string,
  end: Instant | undefined,
): { start: string; end: string } {
  if (rules.length === 0)
    throw new Error(`no rule of ${what} allows emergency access (emergency: in a rule of its _app.yaml)`);
  let cap: Instant | undefined;
  for (const rule of rules) {
    if (!rule.emergency)
      throw new Error(`${rule.name} allows no emergency access (no emergency: in its rule)`);
    const until = addDuration(now, rule.emergency.maxDuration, zone);
    if (until !== undefined && (cap === undefined || until < cap)) cap = until;
  }
  if (cap === undefined) throw new Error(`no rule of ${what} gives emergency access a duration`);
  if (end !== undefined && end > cap)
    throw new Error(`emergency access to ${what} may last until ${humanTime(cap, zone)} at the latest`);
  const iso = (t: Instant) => new Date(t).toISOString().replace('.000Z', 'Z');
  return { start: iso(now), end: iso(end ?? cap) };
}
