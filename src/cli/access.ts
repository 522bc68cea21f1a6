import { resolve } from 'node:path';
import { repositoryRoot } from '../git/state.js';
import { loadCommittedScope } from '../load/scoped.js';
import { parseDuration } from '../model/duration.js';
import { atOption } from '../model/instant.js';
import { lookupApp, lookupPerson } from '../model/lookup.js';
import { peopleById } from '../model/repo.js';
import { isoUtc, zoneOf } from '../model/time.js';
import { formatAccess, formatUpcoming, type ViewFormat } from '../report/access.js';
import { writeSite } from '../report/site.js';
import { type AccessRow, accessAt } from '../views/access.js';
import { seatsAt } from '../views/seats.js';
import { upcoming } from '../views/upcoming.js';
import { type Engine, EXIT, type Io, UsageError } from './io.js';

interface ViewOptions {
  repo?: string;
  app?: string;
  user?: string;
  at?: string;
  format: ViewFormat;
}

/** The repository as committed (as plan reads it), its zone and the instant asked for. */
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
const width = (io: Io) => (io.interactive ? Number(io.env.COLUMNS) || 120 : Number.POSITIVE_INFINITY);

/** `iden access`: every grant active or scheduled at the instant, and the seats. */
export async function runAccess(
  options: ViewOptions & { observed?: boolean; lockTimeout?: string },
  io: Io,
  engine: Engine = {},
): Promise<number> {
  const { repo, zone, at, filter } = await read(options, io);
  const access = accessAt(repo, zone, at, filter);
  const view: Parameters<typeof formatAccess>[0] = {
    at: isoUtc(at),
    access,
    seats: seatsAt(repo, zone, at, filter),
  };
  if (options.observed) {
    const { begin, reportFatal } = await import('./engine.js');
    const { run } = await begin(
      'access',
      {
        ...(options.repo !== undefined ? { repo: options.repo } : {}),
        at: isoUtc(at),
        ...(filter.app !== undefined ? { app: filter.app } : {}),
        ...(options.lockTimeout !== undefined ? { lockTimeout: options.lockTimeout } : {}),
      },
      io,
      engine,
    );
    try {
      if (reportFatal(run, io)) return EXIT.failed;
      const { plan, held } = run.prepared;
      const missing = new Set(
        plan.changes.filter((c) => c.action === 'grant').map((c) => `${c.app}\u0000${c.user}`),
      );
      const people = peopleById(repo);
      for (const row of access) {
        if (row.status !== 'active' || !held.has(row.app)) continue;
        const observed: AccessRow['observed'] = missing.has(`${row.app}\u0000${row.user}`)
          ? 'missing'
          : 'in-sync';
        // A GitHub invitation not yet accepted: present, and pending.
        const account = people.get(row.user);
        const pending =
          observed === 'in-sync' &&
          (held.get(row.app) ?? []).some(
            (h) =>
              h.pending &&
              account &&
              [account.id, account.email, ...Object.values(account.accounts ?? {})].some(
                (a) => a.toLowerCase() === h.account.toLowerCase(),
              ),
          );
        row.observed = pending ? 'pending' : observed;
      }
      view.drift = plan.drift.filter((d) => filter.user === undefined || d.user === filter.user);
      // Accounts no person is known by: shown whenever the question is not about one person.
      if (filter.user === undefined) view.unmanaged = plan.unmanaged ?? [];
      view.skipped = plan.skipped.map(({ app, reason }) => ({ app, reason }));
    } finally {
      await run.close();
    }
  }
  io.stdout(formatAccess(view, options.format, zone, width(io)));
  return EXIT.ok;
}

/** `iden upcoming`: starts and ends within the window from the instant. */
export async function runUpcoming(options: ViewOptions & { within?: string }, io: Io): Promise<number> {
  const within = parseDuration(options.within ?? '7d');
  if (within === undefined || within <= 0)
    throw new UsageError(`--within ${options.within}: give a duration such as 1d, 36h or 2w`);
  const { repo, zone, at, filter } = await read(options, io);
  const events = upcoming(repo, zone, at, at + within, filter);
  io.stdout(
    formatUpcoming({ from: isoUtc(at), to: isoUtc(at + within), events }, options.format, zone, width(io)),
  );
  return EXIT.ok;
}

/** `iden report --out DIR`: the static access report. */
export async function runReport(
  options: { repo?: string; out: string; at?: string },
  io: Io,
): Promise<number> {
  const { repo, zone, at, commit } = await read(options, io);
  const out = resolve(io.cwd, options.out);
  const { written, removed } = writeSite(repo, zone, at, commit, out);
  const stale = removed.length
    ? `, removed ${removed.length} ${removed.length === 1 ? 'page' : 'pages'} of an earlier report`
    : '';
  io.stdout(
    `Wrote ${written.length} ${written.length === 1 ? 'page' : 'pages'} to ${out}${stale}; open ${resolve(out, 'index.html')}\n`,
  );
  return EXIT.ok;
}
