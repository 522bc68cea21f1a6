// iden report: the access report, a static site.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { count } from '../util/plural.js';
import { EXIT, type Io } from './io.js';
import { examples } from './options.js';

export function reportCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('report')
    .description('write the access report: a static site to open in a browser or publish')
    .option('--repo <dir>', 'the access repository root', '.')
    .requiredOption('--out <dir>', 'the folder to write it to')
    .option('--at <iso>', 'at this instant instead of now')
    .addHelpText('after', examples('iden report --out site', 'iden report --out site --at 2027-01-01'))
    .action(async (options: { repo?: string; out: string; at?: string }) =>
      done(await runReport(options, io)),
    );
}

/** `iden report --out DIR`: the static access report. */
export async function runReport(
  options: { repo?: string; out: string; at?: string },
  io: Io,
): Promise<number> {
  const { read } = await import('./views.js');
  const { writeSite } = await import('../report/site.js');
  const { repo, zone, at, commit } = await read(options, io);
  const out = resolve(io.cwd, options.out);
  const { written, removed } = writeSite(repo, zone, at, commit, out);
  const stale = removed.length ? `, removed ${count(removed.length, 'page')} of an earlier report` : '';
  io.stdout(`Wrote ${count(written.length, 'page')} to ${out}${stale}; open ${resolve(out, 'index.html')}\n`);
  return EXIT.ok;
}
