// iden report: the access report, a static site.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { paint } from '../report/paint.js';
import { count } from '../util/plural.js';
import { colourOn, DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io } from './io.js';
import { examples } from './options.js';

type ReportOptions = { repo?: string; out: string; at?: string; observed?: boolean; lockTimeout?: string };

export function reportCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine = {}): void {
  cli
    .command('report')
    .description('write the access report: a static site to open in a browser or publish')
    .option('--repo <dir>', 'the access repository root', '.')
    .requiredOption('--out <dir>', 'the folder to write it to')
    .option('--at <iso>', 'at this instant instead of now')
    .option(
      '--observed',
      'also observe the apps (credentials as for plan): list what they hold that no grant gives',
    )
    .option(
      '--lock-timeout <duration>',
      `with --observed: how long to wait for another run (default ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .addHelpText(
      'after',
      examples(
        'iden report --out site',
        'iden report --out site --at 2027-01-01',
        'iden report --out site --observed',
      ),
    )
    .action(async (options: ReportOptions) => done(await runReport(options, io, engine)));
}

/** `iden report --out DIR`: the static access report. */
export async function runReport(options: ReportOptions, io: Io, engine: Engine = {}): Promise<number> {
  const { read } = await import('./views.js');
  const { writeSite } = await import('../report/site.js');
  const { root, repo, zone, at, commit } = await read(options, io);
  const out = resolve(io.cwd, options.out);
  const extras: import('../report/site.js').SiteExtras = {};
  if (commit !== undefined) {
    const { reviewsOf } = await import('../report/site-reviews.js');
    try {
      extras.reviews = await reviewsOf(root, commit, repo, zone, at);
    } catch (error) {
      // A campaign file that does not read stops no report: its pages say why reviews are missing.
      extras.unread = `the campaign files do not read (${(error as Error).message})`;
      io.stderr(`notice: access reviews left out of the report: ${(error as Error).message}\n`);
    }
  }
  if (options.observed) {
    const observed = await observe(options, at, io, engine);
    if (observed === undefined) return EXIT.failed;
    extras.observed = observed;
  }
  const { written, removed } = writeSite(repo, zone, at, commit, out, extras);
  const stale = removed.length ? `, removed ${count(removed.length, 'page')} of an earlier report` : '';
  io.stdout(
    `${paint(colourOn(io))('green', 'Wrote')} ${count(written.length, 'page')} to ${out}${stale}; open ${resolve(out, 'index.html')}\n`,
  );
  return EXIT.ok;
}

/** The apps observed as `access --observed` observes them: what each holds that no grant gives. */
async function observe(
  options: ReportOptions,
  at: number,
  io: Io,
  engine: Engine,
): Promise<import('../report/site.js').ObservedApps | undefined> {
  const { begin, reportFatal } = await import('./engine.js');
  const { isoUtc } = await import('../model/time.js');
  const { target } = await import('../model/access.js');
  const { run } = await begin(
    'report',
    {
      ...(options.repo !== undefined ? { repo: options.repo } : {}),
      at: isoUtc(at),
      ...(options.lockTimeout !== undefined ? { lockTimeout: options.lockTimeout } : {}),
    },
    io,
    engine,
  );
  try {
    if (reportFatal(run, io)) return undefined;
    const { plan } = run.prepared;
    const key = (c: { app: string; account: string; entitlement?: string; license?: string }) =>
      `${c.app}\u0000${c.account}\u0000${target(c)}`;
    const pruned = new Set(
      plan.changes.filter((c) => c.action === 'revoke' && c.reason === 'drift').map(key),
    );
    return {
      at: plan.at,
      apps: new Set(Object.keys(plan.observed)),
      drift: plan.drift.map((d) => ({
        app: d.app,
        user: d.user,
        account: d.account,
        entitlement: d.entitlement,
        license: d.license,
        removed: pruned.has(key(d)),
      })),
      unmanaged: plan.unmanaged ?? [],
      skipped: plan.skipped.map(({ app, reason }) => ({ app, reason })),
    };
  } finally {
    await run.close();
  }
}
