import type { Assignment } from '../model/access.js';
import type { Instant } from '../model/time.js';
import { isActive, type Window } from '../model/window.js';

/** A valid grant, ready for planning: who, which account, what, and when. */
export interface GrantSpec {
  file: string;
  app: string;
  user: string;
  account: string;
  permissions: string[];
  license: string | undefined;
  window: Window;
}

/** The assignments that must exist at instant `at`: one per entitlement and one per tier of each active grant. Pure. */
export function desired(grants: readonly GrantSpec[], at: Instant): Assignment[] {
  const out: Assignment[] = [];
  for (const grant of grants) {
    if (!isActive(grant.window, at)) continue;
    const { app, user, account } = grant;
    for (const entitlement of grant.permissions) out.push({ app, user, account, entitlement });
    if (grant.license !== undefined) out.push({ app, user, account, license: grant.license });
  }
  return out;
}
