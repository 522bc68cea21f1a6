import type { Plan } from './plan.js';

export type AppState = 'in-sync' | 'pending' | 'held' | 'drift' | 'skipped' | 'unreachable';

export interface AppStatus {
  app: string;
  state: AppState;
  grant: number;
  revoke: number;
  drift: number;
  held: number;
  /** People who should be able to log in and cannot (the connector says so). */
  reason?: string;
  /** Access held by accounts iden leaves alone (listed, never changed). */
  unmanaged?: { account: string; entitlement?: string; license?: string; why: string }[];
}

/**
 * Each app's state from a plan: unreachable or skipped when it was not
 * observed, pending when it has changes, held when a grant file of it does
 * not validate (its people's access is frozen), drift when it holds access
 * no grant gives, else in sync.
 */
export function appStatuses(plan: Plan, apps: readonly string[]): AppStatus[] {
  return apps.map((app) => {
    const skipped = plan.skipped.find((s) => s.app === app);
    const grant = plan.changes.filter((c) => c.app === app && c.action === 'grant').length;
    const revoke = plan.changes.filter((c) => c.app === app && c.action === 'revoke').length;
    const drift = plan.drift.filter((c) => c.app === app).length;
    const held = plan.held.filter((h) => h.app === app).length;
    const state: AppState = skipped
      ? skipped.error
        ? 'unreachable'
        : 'skipped'
      : grant + revoke > 0
        ? 'pending'
        : held > 0
          ? 'held'
          : drift > 0
            ? 'drift'
            : 'in-sync';
    const unmanaged = (plan.unmanaged ?? []).filter((u) => u.app === app).map(({ app: _, ...u }) => u);
    return {
      app,
      state,
      grant,
      revoke,
      drift,
      held,
      ...(skipped ? { reason: skipped.reason } : {}),
      ...(unmanaged.length > 0 ? { unmanaged } : {}),
    };
  });
}
