// `iden change` and `iden revoke`: an edit of a grant file that exists
// (keeping its comments and layout), or its deletion.
import { OperatorError, UsageError } from '../errors.js';
import { instantOption } from '../model/instant.js';
import { appName, describeGrant, describePerson, type Proposal } from '../report/flow.js';
import { askReason, pickHeld } from './ask.js';
import { askChange, cappedEnd } from './ask-change.js';
import { type ChangeEdit, editFor } from './files.js';
import type { Questions } from './questions.js';
import { heldGrant, offerFor, type Workspace, windowOf, writtenEnd } from './workspace.js';

export interface ChangeAnswers {
  app?: string;
  user?: string;
  addPermission?: string[];
  removePermission?: string[];
  license?: string;
  start?: string;
  /** false: remove the end. */
  end?: string | false;
  reason?: string;
}

export async function proposeChange(
  ws: Workspace,
  given: ChangeAnswers,
  ask: Questions | undefined,
): Promise<Proposal> {
  const which = await pickHeld(ws, ask, given);
  const { app, person, file, current } = await heldGrant(ws, which.app, which.user);
  if (!current)
    throw new OperatorError(
      `${person} has no grant for ${app} (${file} does not exist): give access with iden grant --app ${app} --user ${person}`,
    );
  if (!current.value)
    throw new OperatorError(`${file} does not validate: run iden validate and fix it first`);
  const was = current.value;
  // A duration counts from the access's start: the new one, else one still to come, else today.
  const startsLater = was.start !== undefined && instantOption('start', was.start, ws.zone, ws.now) > ws.now;
  const end =
    given.end === false
      ? false
      : writtenEnd(ws, given.end, given.start ?? (startsLater ? was.start : undefined));
  windowOf(ws, given.start, end === false ? undefined : end);
  const entry = ws.repo.apps.get(app)!.value!;
  // The access rules, as iden grant applies them (src/rules/offer.ts): validate refuses what they forbid.
  const offer = offerFor(ws, app);
  const grantee = ws.people.find((p) => p.id === person);

  let edit: ChangeEdit = {
    add: given.addPermission ?? [],
    remove: given.removePermission ?? [],
    ...(given.license !== undefined ? { license: given.license } : {}),
    ...(given.start !== undefined ? { start: given.start === 'now' ? null : given.start } : {}),
    ...(end === false ? { end: null } : end !== undefined ? { end } : {}),
    ...(given.reason !== undefined ? { reason: given.reason } : {}),
  };
  const flagged =
    edit.add.length + edit.remove.length > 0 || ['license', 'start', 'end', 'reason'].some((k) => k in edit);
  if (!flagged) {
    if (!ask)
      throw new UsageError(
        'nothing to change: give --add-permission, --remove-permission, --license, --start, --end, --no-end or --reason',
      );
    edit = await askChange(ask, ws, entry, was, file, offer, grantee);
  } else if (ask && given.end === undefined && offer.any) {
    // Flags that leave no end, or one past the cap of the access as changed: the end is asked within it.
    const start = given.start !== undefined ? given.start : was.start;
    const written = start === undefined || start === 'now' ? undefined : start;
    const at = written === undefined ? ws.now : instantOption('--start', written, ws.zone, ws.now);
    const permissions = [
      ...(was.permissions ?? []).filter((p) => !edit.remove.includes(p)),
      ...edit.add.filter((p) => !(was.permissions ?? []).includes(p)),
    ];
    const cap = offer.grantCap({ permissions, license: given.license ?? was.license }, at, ws.zone);
    const until = was.end === undefined ? undefined : instantOption('end', was.end, ws.zone, ws.now);
    if (cap && (until === undefined || until > cap.longest)) {
      const from = Math.max(at, ws.now);
      edit.end = await cappedEnd(ask, ws, from, from > ws.now ? written : undefined, cap);
    }
  }
  for (const id of edit.remove)
    if (!(was.permissions ?? []).includes(id))
      throw new UsageError(
        `--remove-permission ${id}: ${person} does not hold it in ${app} (${(was.permissions ?? []).join(', ') || 'no permissions'})`,
      );
  const { text, grant, changes } = editFor(ws.repo.tree, current.source, was, edit);
  if (changes.length === 0) throw new UsageError(`nothing to change: ${file} already says that`);
  return {
    action: 'change',
    changes: new Map([[file, text]]),
    subject: `change: ${person} → ${app} (${changes.join(', ')})`,
    branch: `change/${app}/${person}`,
    describe: [
      `Change ${describePerson(ws, person)}'s access to ${appName(ws, app)}: ${changes.join(', ')}`,
      ...describeGrant(ws, grant).slice(1),
    ],
  };
}

export async function proposeRevoke(
  ws: Workspace,
  given: { app?: string; user?: string; reason?: string },
  ask: Questions | undefined,
): Promise<Proposal> {
  const which = await pickHeld(ws, ask, given);
  const { app, person, file, current } = await heldGrant(ws, which.app, which.user);
  if (!current)
    throw new OperatorError(`${person} has no grant for ${app}: ${file} does not exist; nothing to revoke`);
  let reason = given.reason;
  if (reason === undefined && ask) reason = await askReason(ask, undefined);
  return {
    action: 'revoke',
    changes: new Map([[file, null]]),
    subject: `revoke: ${person} from ${app}`,
    branch: `revoke/${app}/${person}`,
    describe: [
      `Revoke ${describePerson(ws, person)}'s access to ${appName(ws, app)}: delete ${file}`,
      ...(reason ? [`  reason: ${reason}`] : []),
    ],
  };
}
