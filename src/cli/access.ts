// iden access: who has access now (or at --at), and the seats left.
import type { Command } from 'commander';
import { paint } from '../report/paint.js';
import type { AccessRow } from '../views/access.js';
import { colourOn, DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io } from './io.js';
import { examples } from './options.js';
import { type ViewOptions, viewFormat } from './view-options.js';

export function accessCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  cli
    .command('access')
    .description('who has access now (or at --at): every grant active or scheduled, and the seats left')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--app <id>', 'only this app')
    .option('--user <id|email>', 'only this person')
    .option('--at <iso>', 'at this instant instead of now')
    .option(
      '--observed',
      'also observe the apps (credentials as for plan): in sync, pending or missing, and drift',
    )
    .option(
      '--lock-timeout <duration>',
      `with --observed: how long to wait for another run (default ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .addOption(viewFormat())
    .addHelpText(
      'after',
      examples(
        'iden access --user alice@example.com',
        'iden access --app github --observed',
        'iden access --at 2027-01-01 --format csv',
      ),
    )
    .action(async (options: ViewOptions & { observed?: boolean; lockTimeout?: string }) =>
      done(await runAccess(options, io, engine)),
    );
}

/** `iden access`: every grant active or scheduled at the instant, and the seats. */
export async function runAccess(
  options: ViewOptions & { observed?: boolean; lockTimeout?: string },
  io: Io,
  engine: Engine = {},
): Promise<number> {
  const { read, width } = await import('./views.js');
  const { accessRows } = await import('../views/access.js');
  const { selected, spellsOf } = await import('../views/spells.js');
  const { seatsAt } = await import('../views/seats.js');
  const { formatAccess } = await import('../report/access.js');
  const { peopleById } = await import('../model/repo.js');
  const { isoUtc } = await import('../model/time.js');
  const { LazyList } = await import('../util/json-stream.js');
  const { repo, zone, at, filter } = await read(options, io);
  const spells = spellsOf(repo, zone);
  // The rows are made as they are written (twice for a text table's widths), never a list of a million.
  let observe = (row: AccessRow) => row;
  const view: Parameters<typeof formatAccess>[0] = {
    at: isoUtc(at),
    access: new LazyList(function* () {
      for (const row of accessRows(spells, selected(spells, filter), at)) yield observe(row);
    }),
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
      undefined,
      options.format === 'json',
    );
    try {
      if (reportFatal(run, io)) return EXIT.failed;
      const { plan, held } = run.prepared;
      const missing = new Set(
        plan.changes.filter((c) => c.action === 'grant').map((c) => `${c.app}\u0000${c.user}`),
      );
      const people = peopleById(repo);
      observe = (row) => {
        if (row.status !== 'active' || !held.has(row.app)) return row;
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
        return row;
      };
      view.drift = plan.drift.filter((d) => filter.user === undefined || d.user === filter.user);
      // Accounts no person is known by: shown whenever the question is not about one person.
      if (filter.user === undefined) view.unmanaged = plan.unmanaged ?? [];
      view.skipped = plan.skipped.map(({ app, reason }) => ({ app, reason }));
    } finally {
      await run.close();
    }
  }
  // In pieces: a million rows are never one text.
  const p = paint(colourOn(io) && options.format === 'text');
  for (const piece of formatAccess(view, options.format, zone, width(io), p)) io.stdout(piece);
  return EXIT.ok;
}
