import type { Change, Outcome } from '../model/access.js';
import type { AccessRepo } from '../model/repo.js';
import { zoneOf } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { type EmergencyNotice, emergencyCut, emergencyText } from './emergency.js';
import { emergencyWindow } from './resolve.js';

/**
 * Tells the notify webhook at once of every emergency grant a run has just
 * applied: who, what, why, until when and by when it must be approved.
 * POSTed as Slack-compatible {"text"} to the URL in the variable
 * `notify.webhookEnv` names, each with a deadline. A grant is applied once,
 * so each is told once; a failure is returned, never thrown (the access is
 * already in place, and the run's record and the audit still show it).
 */
export async function notifyEmergency(
  repo: AccessRepo,
  results: readonly (Change & { outcome: Outcome })[],
  env: NodeJS.ProcessEnv,
): Promise<EmergencyNotice[]> {
  const granted = new Map<string, string[]>();
  for (const r of results) {
    if (r.action !== 'grant' || r.outcome !== 'granted') continue;
    const key = `${r.app}\u0000${r.user}`;
    granted.set(key, [...(granted.get(key) ?? []), r.entitlement ?? `${r.license} (license)`]);
  }
  if (granted.size === 0) return [];
  const settings = repo.settings?.value;
  const zone = zoneOf(repo);
  const hookEnv = settings?.notify?.webhookEnv;
  const url = hookEnv ? env[hookEnv] : undefined;
  const notices: EmergencyNotice[] = [];
  for (const grant of repo.grants) {
    const value = grant.value;
    const what = value?.emergency === true ? granted.get(`${value.app}\u0000${value.user}`) : undefined;
    if (!value || !what) continue;
    const window = emergencyCut(value, grantWindow(value, zone), emergencyWindow(settings), zone);
    const text = emergencyText(value, what, window, settings, zone);
    const notice: EmergencyNotice = {
      file: grant.file,
      user: value.user,
      app: value.app,
      what,
      text,
      sent: false,
    };
    if (!url) {
      notice.why = hookEnv
        ? `${hookEnv} is not set`
        : 'no notify.webhookEnv in _settings.yaml to send emergency notices to';
    } else {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            text,
            emergency: {
              user: value.user,
              app: value.app,
              what,
              reason: value.reason ?? null,
              file: grant.file,
            },
          }),
          signal: AbortSignal.timeout(15_000),
        });
        if (!res.ok) notice.why = `the webhook answered ${res.status}`;
        else notice.sent = true;
      } catch (e) {
        notice.why = (e as Error).message;
      }
    }
    notices.push(notice);
  }
  return notices;
}
