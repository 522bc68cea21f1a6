// `iden grant`: a new grant file, from the app (then who) or from the person
// (then which app), as the product's Grant Access page asks it.

import { OperatorError, UsageError } from '../errors.js';
import { instantOption } from '../model/instant.js';
import type { GrantFile } from '../model/repo.js';
import { peopleById } from '../model/repo.js';
import { describeGrant, type Proposal } from '../report/flow.js';
import { emergencySchedule } from '../rules/emergency.js';
import { rulesFor } from '../rules/resolve.js';
import { tierChoices } from '../views/seats.js';
import { askReason, missing, pickApp, pickPermissions, pickPerson, pickSchedule, pickTier } from './ask.js';
import { askCappedEnd } from './ask-end.js';
import { grantText } from './files.js';
import type { Questions } from './questions.js';
import {
  appOrFail,
  focus,
  offerFor,
  personOrFail,
  refuseHolder,
  type Workspace,
  windowOf,
  writtenEnd,
} from './workspace.js';

export interface GrantAnswers {
  app?: string;
  user?: string;
  permission?: string[];
  license?: string;
  start?: string;
  end?: string;
  reason?: string;
  /** Emergency (break-glass) access where a rule allows it: see docs/rules.md. */
  emergency?: boolean;
}

/** The grant flags give, with what they leave out asked (or, without `ask`, refused as missing). */
export async function proposeGrant(
  ws: Workspace,
  given: GrantAnswers,
  ask: Questions | undefined,
  say: (text: string) => void,
): Promise<Proposal> {
  const people = peopleById(ws.repo);
  let app = given.app !== undefined ? appOrFail(ws, given.app) : undefined;
  let person = given.user !== undefined ? personOrFail(ws, given.user) : undefined;
  // The access rules say who may hold what, and for how long: only that is offered (src/rules/offer.ts).
  const offerOf = (id: string) => offerFor(ws, id);
  // Like the product: from an app, pick the person; from a person, pick the app; else the app first.
  if (!app) {
    const who = person;
    app = await pickApp(
      ws,
      ask,
      '--app',
      who,
      who === undefined ? undefined : (id) => offerOf(id).closedTo(who, people.get(who), given.permission),
    );
  }
  await focus(ws, [app]);
  if (person) refuseHolder(ws, app, person);
  const offer = offerOf(app);
  if (!person)
    person = await pickPerson(
      ws,
      ask,
      app,
      people,
      say,
      offer.any ? (p) => offer.closedTo(p.id, p, given.permission) : undefined,
    );
  const user = person;
  const grantee = people.get(user);

  const entry = ws.repo.apps.get(app)!.value!;
  let permissions = given.permission;
  if (permissions === undefined) {
    const blocked = (id: string) => offer.entitlement(id, user, grantee);
    const open = entry.entitlements.filter((e) => !blocked(e.id));
    const tiered = (entry.licenses ?? []).length > 0;
    if (ask && open.length === 0 && entry.entitlements.length > 0 && !tiered)
      throw new OperatorError(
        `${user} may hold nothing in ${app} under its rules (${blocked(entry.entitlements[0]!.id)}); nothing was changed`,
      );
    if (entry.entitlements.length === 0 || (ask && open.length === 0 && tiered)) permissions = [];
    else if (ask)
      permissions = await pickPermissions(ask, entry, [], !tiered, offer.any ? blocked : undefined);
    else if (tiered) permissions = [];
    else
      throw missing(
        '--permission',
        entry.entitlements.map((e) => e.id),
      );
  }

  let start = given.start;
  let end = writtenEnd(ws, given.end, given.start);
  if (given.emergency) ({ start, end } = emergencyOf(ws, app, permissions, start, end));
  const capAt = offer.any
    ? (from: number) => offer.scheduleCap(permissions, user, grantee, from, ws.zone)
    : undefined;
  if (start === undefined && end === undefined && ask) ({ start, end } = await pickSchedule(ask, ws, capAt));
  else if (end === undefined && ask && !given.emergency) {
    // A start given and no end: under a cap, the end is asked (no end is not allowed).
    const from = windowOf(ws, start, undefined).from;
    const cap = capAt?.(from);
    if (cap) end = await askCappedEnd(ask, ws, from, start === 'now' ? undefined : start, cap);
  }
  const window = windowOf(ws, start, end);

  let license = given.license;
  const tiers = entry.licenses ?? [];
  if (license === undefined && tiers.length > 0) {
    const choices = tierChoices(ws.repo, ws.zone, app, window.from, window.to);
    if (ask)
      license = await pickTier(
        ask,
        ws,
        choices,
        undefined,
        offer.any ? (tier) => offer.tier(tier, user, grantee, window, ws.zone) : undefined,
      );
    else
      throw missing(
        '--license',
        tiers.map((t) => t.id),
      );
  }

  let reason = given.reason;
  if (reason === undefined && ask) reason = await askReason(ask, undefined);
  if (given.emergency && !reason)
    throw new UsageError('--emergency needs --reason: why, for the notice, the pull request and the audit');

  const grant: GrantFile = {
    user: person,
    app,
    ...(permissions.length > 0 || tiers.length === 0 ? { permissions } : {}),
    ...(license !== undefined ? { license } : {}),
    ...(start !== undefined && start !== 'now' ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(given.emergency ? { emergency: true } : {}),
    ...(reason ? { reason } : {}),
  };
  const what = [...(grant.permissions ?? []), ...(license !== undefined ? [license] : [])];
  const from = start !== undefined && start !== 'now' ? ` from ${start}` : '';
  return {
    action: 'grant',
    changes: new Map([[`grants/${app}/${person}.yaml`, grantText(grant)]]),
    subject: `grant: ${person} → ${app} (${what.join(', ')})${from}${end !== undefined ? ` until ${end}` : ''}`,
    branch: `grant/${app}/${person}`,
    describe: describeGrant(ws, grant),
  };
}

/** The start and end of emergency access (src/rules/emergency.ts), or a usage error saying why there is none. */
function emergencyOf(
  ws: Workspace,
  app: string,
  permissions: string[],
  start: string | undefined,
  end: string | undefined,
): { start: string; end: string } {
  if (start !== undefined && start !== 'now')
    throw new UsageError('--emergency starts now: leave out --start');
  const entry = ws.repo.apps.get(app);
  const rules = rulesFor(app, entry?.file ?? '', entry?.value, { permissions }, ws.repo.settings?.value);
  const until = end === undefined ? undefined : instantOption('--end', end, ws.zone, ws.now);
  try {
    return emergencySchedule(rules, `${app} (${permissions.join(', ')})`, ws.now, ws.zone, until);
  } catch (e) {
    throw new UsageError(`--emergency: ${(e as Error).message}`);
  }
}
