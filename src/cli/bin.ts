#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { main } from './main.js';

/** One line typed on the terminal after the prompt. */
async function line(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  ask: (question: string, fallback: string | undefined) =>
    line(fallback ? `${question} [${fallback}]: ` : `${question}: `),
  confirm: async (question: string) => /^y(es)?$/i.test((await line(`${question} [y/N] `)).trim()),
};

process.exitCode = await main(process.argv.slice(2), io);
