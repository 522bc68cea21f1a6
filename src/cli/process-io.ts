import { createInterface } from 'node:readline/promises';
import type { Clock } from '../model/clock.js';
import type { Io } from './io.js';

/** One line typed on the terminal after the prompt. */
async function line(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

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
    ask: (question: string, fallback: string | undefined) =>
      line(fallback ? `${question} [${fallback}]: ` : `${question}: `),
    confirm: async (question: string) => /^y(es)?$/i.test((await line(`${question} [y/N] `)).trim()),
  };
}
