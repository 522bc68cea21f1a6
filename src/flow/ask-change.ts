// What `iden change` asks on a terminal, under the same access rules as
// `iden grant` (src/rules/offer.ts): an entitlement the person may not hold
// cannot be added (one held can be kept), a tier they are not eligible for
// cannot be moved to, and under a maxDuration only ends within it are offered.
import { OperatorError } from '../errors.js';
import type { GrantFile, Person } from '../model/repo.js';
import { humanTime, type Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import type { AppOffer, Cap } from '../rules/offer.js';
import { tierChoices } from '../views/seats.js';
import { type AppValue, askEnd, askReason, pickPermissions, pickTier } from './ask.js';
import { askCappedEnd } from './ask-end.js';
import type { ChangeEdit } from './files.js';
import type { Questions } from './questions.js';
import type { Workspace } from './workspace.js';

/** A change asked on a terminal: permissions pre-checked, the current tier, end and reason offered. */
export async function askChange(
  ask: Questions,
  ws: Workspace,
  app: AppValue,
  was: GrantFile,
  file: string,
  offer: AppOffer,
  grantee: Person | undefined,
): Promise<ChangeEdit> {
  const before = was.permissions ?? [];
  const ruled = offer.any;
  const permissions =
    app.entitlements.length > 0
      ? await pickPermissions(
          ask,
          app,
          before,
          (app.licenses ?? []).length === 0,
          ruled ? (id) => offer.added(id, before, was.user, grantee) : undefined,
        )
      : before;
  const edit: ChangeEdit = {
    add: permissions.filter((p) => !before.includes(p)),
    remove: before.filter((p) => !permissions.includes(p)),
  };
  const window = grantWindow(was, ws.zone);
  // The part of the grant still to come: seats are counted, and the end asked, from there.
  const from = Math.max(window?.start ?? ws.now, ws.now);
  let license = was.license;
  if ((app.licenses ?? []).length > 0) {
    const choices = tierChoices(ws.repo, ws.zone, was.app, from, window?.end, file);
    license = await pickTier(
      ask,
      ws,
      choices,
      was.license,
      ruled ? (tier) => offer.tierOpen(tier, was.user, grantee) : undefined,
    );
    if (license !== was.license) edit.license = license;
  }
  // A rule's maxDuration counts from the written start, else from now (as validate counts it).
  const cap = ruled ? offer.grantCap({ permissions, license }, window?.start ?? ws.now, ws.zone) : undefined;
  const start = from > ws.now ? was.start : undefined;
  const end = cap
    ? await cappedEnd(ask, ws, from, start, cap, was.end)
    : await askEnd(ask, ws, from, start, was.end);
  if (end !== was.end) edit.end = end ?? null;
  const reason = await askReason(ask, was.reason);
  if (reason !== was.reason) edit.reason = reason ?? null;
  return edit;
}

/** The end under a cap, or why no end is left within it (a grant that started long ago). */
export function cappedEnd(
  ask: Questions,
  ws: Workspace,
  from: Instant,
  start: string | undefined,
  cap: Cap,
  current?: string,
): Promise<string> {
  if (cap.longest <= Math.max(from, ws.now))
    throw new OperatorError(
      `${cap.rule} allows at most ${cap.duration} from the grant's start, which ended ${humanTime(cap.longest, ws.zone)}: no end after now is within it; revoke it (iden revoke) and request it anew; nothing was changed`,
    );
  return askCappedEnd(ask, ws, from, start, cap, current);
}
