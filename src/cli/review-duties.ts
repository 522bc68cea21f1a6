// What `iden review close` and `remind` share: one campaign named, or with
// --all every campaign whose due date or lead time has come.
import { UsageError } from '../errors.js';
import { instantOption } from '../model/instant.js';
import type { Instant } from '../model/time.js';
import type { ReviewWorkspace } from '../reviews/workspace.js';
import { EXIT, type Io } from './io.js';

export interface OneOrAll {
  all?: boolean;
  at?: string;
  repo: string;
}

/** `close` and `remind`: the campaign named, or with --all every campaign that duty is owed for. */
export async function oneOrAll(
  io: Io,
  name: string | undefined,
  options: OneOrAll,
  duty: 'close' | 'remind',
  one: (ws: ReviewWorkspace, name: string, at: Instant) => Promise<{ text: string; failed: boolean }>,
  nothing: string,
): Promise<number> {
  const { openWorkspace } = await import('../reviews/workspace.js');
  if (!name === !options.all) throw new UsageError('name a campaign, or give --all');
  const ws = await openWorkspace(io.cwd, options.repo, io.env, io.clock);
  const at = instantOption('--at', options.at, ws.zone, io.clock.now());
  if (name) {
    const { text, failed } = await one(ws, name, at);
    io.stdout(text);
    return failed ? EXIT.failed : EXIT.ok;
  }
  const { runDuties } = await import('../reviews/duties.js');
  const { printDuties } = await import('../reviews/print.js');
  const { text, failed } = printDuties(
    await runDuties(ws, at, io.env, { close: duty === 'close', remind: duty === 'remind' }),
  );
  io.stdout(text || nothing);
  return failed ? EXIT.failed : EXIT.ok;
}
