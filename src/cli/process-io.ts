import type { Clock } from '../model/clock.js';
import type { Io } from './io.js';

/**
 * Writes to a stream of the process until its reader goes away (`iden access
 * | head`: EPIPE), then nothing more: the command runs to its end and exits
 * with its own code, a run in flight not cut short by a closed pipe, and no
 * stack trace printed for it.
 */
function writer(stream: NodeJS.WriteStream): (text: string) => void {
  let gone = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    gone = true;
  });
  return (text) => {
    if (!gone) stream.write(text);
  };
}

/** The process's own streams, environment, folder and terminal, read on `clock`. */
export function processIo(clock: Clock): Io {
  return {
    clock,
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    terminal: { stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY) },
    // The prompt library is loaded only when someone is asked something.
    questions: async (toStderr: boolean) => (await import('./prompts.js')).terminalQuestions(toStderr),
  };
}
