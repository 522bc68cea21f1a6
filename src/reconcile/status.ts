import type { Change } from '../model/access.js';
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
  /**
   * The drift itself: access the app holds that no grant gives, by whom
   * (`user` is the account when no person has it). `removed`: the next apply
   * takes it away (prune: true); else it is kept and only reported.
   */
  drifted?: { user: string; account: string; entitlement?: string; license?: string; removed: boolean }[];
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
    const drifted = plan.drift
      .filter((d) => d.app === app)
      .map((d) => ({
        user: d.user,
        account: d.account,
        ...(d.entitlement !== undefined ? { entitlement: d.entitlement } : { license: d.license! }),
        removed: plan.changes.some((c) => sameAccess(c, d)),
      }));
    return {
      app,
      state,
      grant,
      revoke,
      drift,
      held,
      ...(skipped ? { reason: skipped.reason } : {}),
      ...(unmanaged.length > 0 ? { unmanaged } : {}),
      ...(drifted.length > 0 ? { drifted } : {}),
    };
  });
}

function sameAccess(a: Change, b: Change): boolean {
  return (
    a.app === b.app && a.account === b.account && a.entitlement === b.entitlement && a.license === b.license
  );
}
