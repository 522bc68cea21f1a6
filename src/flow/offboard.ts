// `iden offboard`: every grant file of a person deleted in one commit; with
// --remove-person, the person also leaves the directory, the roles and the
// approvers (a policy change).
import { OperatorError } from '../errors.js';
import { describePerson, type Proposal } from '../report/flow.js';
import { askReason, pickOffboarded } from './ask.js';
import { offboardChanges } from './files.js';
import type { Questions } from './questions.js';
import { holders, personOrFail, type Workspace } from './workspace.js';

export async function proposeOffboard(
  ws: Workspace,
  given: { user?: string; removePerson?: boolean; reason?: string },
  ask: Questions | undefined,
): Promise<Proposal> {
  const person = given.user !== undefined ? personOrFail(ws, given.user) : await pickOffboarded(ws, ask);
  const files = [...ws.repo.apps.keys()]
    .filter((app) => holders(ws, app).has(person))
    .map((app) => `grants/${app}/${person}.yaml`);
  const changes = new Map<string, string | null>(files.map((f) => [f, null]));
  const policyFiles = given.removePerson ? offboardChanges(ws.repo, person) : new Map<string, string>();
  for (const [path, text] of policyFiles) changes.set(path, text);
  if (changes.size === 0)
    throw new OperatorError(
      `${person} holds no grant: nothing to offboard (--remove-person also removes them from _people.yaml)`,
    );
  let reason = given.reason;
  if (reason === undefined && ask) reason = await askReason(ask, undefined);
  const apps = files.map((f) => f.split('/')[1]!);
  return {
    action: 'offboard',
    changes,
    subject: `offboard: ${person}${apps.length > 0 ? ` from ${apps.join(', ')}` : ''}${given.removePerson ? '; removed from _people.yaml' : ''}`,
    branch: `offboard/${person}`,
    describe: [
      `Offboard ${describePerson(ws, person)}:`,
      ...files.map((f) => `  delete ${f}`),
      ...[...policyFiles.keys()].map(
        (f) =>
          `  remove ${person} from ${f}${f === 'grants/_people.yaml' ? '' : ' (roles, approvers)'}: a policy change`,
      ),
      ...(reason ? [`  reason: ${reason}`] : []),
    ],
  };
}
