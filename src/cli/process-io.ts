import type { Clock } from '../model/clock.js';
import type { Io } from './io.js';

/** The process's own streams, environment, folder and terminal, read on `clock`. */
export function processIo(clock: Clock): Io {
  return {
    clock,
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    terminal: { stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY) },
    // The prompt library is loaded only when someone is asked something.
    questions: async (toStderr: boolean) => (await import('./prompts.js')).terminalQuestions(toStderr),
  };
}
