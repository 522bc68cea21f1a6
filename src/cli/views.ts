// What the views (access, upcoming, report) share on the command line: the
// repository as committed, read only as far as --app and --user need, with
// both filters resolved. Loaded only when one of them runs.
import { repositoryRoot } from '../git/state.js';
import { loadCommittedScope } from '../load/scoped.js';
import { atOption } from '../model/instant.js';
import { lookupApp, lookupPerson } from '../model/lookup.js';
import { peopleById } from '../model/repo.js';
import { zoneOf } from '../model/time.js';
import { type Io, UsageError } from './io.js';

export /** The repository as committed (as plan reads it), its zone and the instant asked for. */
async function read(options: { repo?: string; at?: string; app?: string; user?: string }, io: Io) {
  const root = await repositoryRoot(io.cwd, options.repo);
  // --app and --user read only the files their answer needs.
  const { repo, commit, notices } = await loadCommittedScope(root, { app: options.app, user: options.user });
  for (const notice of notices) io.stderr(`notice: ${notice}\n`);
  // Both filters resolve as every command's do, and an unknown value is exit 2, never an empty answer.
  const app = options.app === undefined ? undefined : lookupApp(options.app, repo.apps.keys());
  if (app && 'unknown' in app) throw new UsageError(app.unknown);
  const user =
    options.user === undefined ? undefined : lookupPerson(options.user, [...peopleById(repo).values()]);
  if (user && 'unknown' in user) throw new UsageError(user.unknown);
  const zone = zoneOf(repo);
  const filter = { app: app?.id, user: user?.id };
  return { root, repo, commit, zone, filter, at: atOption(options.at, repo, io.clock.now()) };
}

/** A table fits a terminal's width; piped into a file or another program, nothing is cut. */
export const width = (io: Io) => (io.interactive ? Number(io.env.COLUMNS) || 120 : Number.POSITIVE_INFINITY);
