// iden upcoming: what starts and ends soon.
import type { Command } from 'commander';
import { parseDuration } from '../model/duration.js';
import { paint } from '../report/paint.js';
import { colourOn, EXIT, type Io, UsageError } from './io.js';
import { examples } from './options.js';
import { type ViewOptions, viewFormat } from './view-options.js';

export function upcomingCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('upcoming')
    .description('what starts and ends soon: within --within (default 7d) of now or --at')
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--app <id>', 'only this app')
    .option('--user <id|email>', 'only this person')
    .option('--at <iso>', 'from this instant instead of now')
    .option('--within <duration>', 'how far ahead: 1d, 36h, 2w (default 7d)')
    .addOption(viewFormat())
    .addHelpText(
      'after',
      examples('iden upcoming', 'iden upcoming --within 30d --app github --format markdown'),
    )
    .action(async (options: ViewOptions & { within?: string }) => done(await runUpcoming(options, io)));
}

/** `iden upcoming`: starts and ends within the window from the instant. */
export async function runUpcoming(options: ViewOptions & { within?: string }, io: Io): Promise<number> {
  const { read, width } = await import('./views.js');
  const { upcoming } = await import('../views/upcoming.js');
  const { formatUpcoming } = await import('../report/access.js');
  const { isoUtc } = await import('../model/time.js');
  const within = parseDuration(options.within ?? '7d');
  if (within === undefined || within <= 0)
    throw new UsageError(`--within ${options.within}: give a duration such as 1d, 36h or 2w`);
  const { repo, zone, at, filter } = await read(options, io);
  const events = upcoming(repo, zone, at, at + within, filter);
  const view = { from: isoUtc(at), to: isoUtc(at + within), events };
  const p = paint(colourOn(io) && options.format === 'text');
  for (const piece of formatUpcoming(view, options.format, zone, width(io), p)) io.stdout(piece);
  return EXIT.ok;
}
