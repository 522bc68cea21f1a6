// Progress on the terminal: what each app is doing while a run is slow
// (observing, creating its embedded database, applying n/m). Written to
// stderr only when stderr is a terminal and not in CI; elsewhere only the
// line per app that says its changes are done, as before.
import { paint } from '../report/paint.js';
import { inCi } from '../util/ci.js';
import { colourOn, type Io } from './io.js';

export interface Progress {
  /** A slow step of one app begins: observing, creating its embedded database. */
  step(app: string, text: string): void;
  /** `done` of an app's `total` changes have been made. */
  applied(app: string, done: number, total: number): void;
}

/** Progress for a command; `quiet` (its output is JSON) keeps even the terminal's lines out. */
export function progress(io: Io, quiet = false): Progress {
  const live = !quiet && io.terminal?.stderr === true && !inCi(io.env);
  const p = paint(live && colourOn(io, 'stderr'));
  return {
    step: (app, text) => {
      if (live) io.stderr(`${p('dim', `${app}: ${text}…`)}\n`);
    },
    applied: (app, done, total) => {
      // On a terminal one line per app counts up in place; elsewhere one line when it is done.
      if (live)
        io.stderr(`\r\u001b[K${p('dim', `${app}: applying ${done}/${total}`)}${done === total ? '\n' : ''}`);
      else if (done === total) io.stderr(`${app}: ${done}/${total} done\n`);
    },
  };
}
