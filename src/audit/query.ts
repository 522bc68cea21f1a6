// What an audit question names, read as the command line gives it: --user
// and --app resolved as every command resolves them (and as the history
// knows them), and the settings and people as HEAD has them.
import { UsageError } from '../errors.js';
import { resolveRef } from '../git/diff.js';
import { CommitTree } from '../git/tree.js';
import { loadRepo, loadTree } from '../load/repo.js';
import { lookupApp, lookupPerson } from '../model/lookup.js';
import { type AccessRepo, peopleById } from '../model/repo.js';

/**
 * --user and --app as every command reads them (a person by id or email, any
 * case), and also as the history knows them (people and apps since removed):
 * an unknown value is exit 2 with a did-you-mean, never an empty history.
 */
export function filters(
  options: { user?: string | undefined; app?: string | undefined },
  repo: AccessRepo,
  commits: readonly { files: readonly { path: string }[] }[],
): { user?: string; app?: string } {
  const formerUsers = new Set<string>();
  const apps = new Set(repo.apps.keys());
  for (const commit of commits)
    for (const { path } of commit.files) {
      const m = /^grants\/([^/]+)\/([^/]+)\.yaml$/.exec(path);
      if (!m || m[2]!.startsWith('_')) continue;
      apps.add(m[1]!);
      formerUsers.add(m[2]!);
    }
  const out: { user?: string; app?: string } = {};
  if (options.user !== undefined) {
    const found = lookupPerson(
      options.user,
      [...peopleById(repo).values()],
      formerUsers,
      'grants/_people.yaml or the history of grants/',
    );
    if ('unknown' in found) throw new UsageError(found.unknown);
    out.user = found.id;
  }
  if (options.app !== undefined) {
    const found = lookupApp(options.app, apps, 'grants/ or its history');
    if ('unknown' in found) throw new UsageError(found.unknown);
    out.app = found.id;
  }
  return out;
}

/** The settings and people as HEAD has them (no grant files): the time zone for dates, names for logins. */
export async function headRepo(
  root: string,
  withPeople: boolean,
  withApps: boolean,
  /** HEAD's commit (null: none yet), when the caller resolved it already. */
  known?: string | null,
): Promise<AccessRepo> {
  const head = known !== undefined ? known : await resolveRef(root, 'HEAD');
  if (!head) return loadRepo(root);
  // Only the settings, the people and each app's _app.yaml are listed, not every grant file.
  return loadTree(await CommitTree.openSome(root, head, []), {
    grants: () => false,
    apps: withApps,
    people: withPeople,
    // Only their values are read: nothing is placed on a line.
    documents: false,
  });
}

/** GitHub logins to person ids, and person ids to names, from _people.yaml. */
export function people(repo: AccessRepo): { loginToPerson: Map<string, string>; names: Map<string, string> } {
  const loginToPerson = new Map<string, string>();
  const names = new Map<string, string>();
  const list = repo.people?.raw?.people;
  for (const p of Array.isArray(list) ? list : []) {
    const person = p as { id?: unknown; name?: unknown; accounts?: { github?: unknown } };
    if (typeof person.id !== 'string') continue;
    if (typeof person.name === 'string') names.set(person.id, person.name);
    const login = person.accounts?.github;
    if (typeof login === 'string') loginToPerson.set(login.toLowerCase(), person.id);
  }
  return { loginToPerson, names };
}
