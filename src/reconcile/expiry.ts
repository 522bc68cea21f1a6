import type { Expired } from '../git/expire.js';
import type { AccessRepo } from '../model/repo.js';
import { humanTime } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import type { ChangeResult } from './apply.js';
import type { Plan } from './plan.js';

/**
 * Grant files whose end has passed and whose access is gone: the app was
 * observed this run and no removal for that person failed. A file whose
 * access could not be removed stays, so the next run tries again.
 */
export function endedGrants(
  repo: AccessRepo,
  zone: string,
  plan: Plan,
  results: readonly ChangeResult[],
): Expired[] {
  const at = Date.parse(plan.at);
  const failed = new Set(results.filter((r) => r.outcome === 'failed').map((r) => `${r.app}\u0000${r.user}`));
  const observed = new Set(Object.keys(plan.observed));
  const expired: Expired[] = [];
  for (const grant of repo.grants) {
    const value = grant.value;
    if (!value || !observed.has(value.app) || failed.has(`${value.app}\u0000${value.user}`)) continue;
    const window = grantWindow(value, zone);
    if (window?.end === undefined || window.end > at) continue;
    expired.push({ file: grant.file, user: value.user, app: value.app, ended: humanTime(window.end, zone) });
  }
  return expired;
}
