#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { main } from './main.js';

const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  async ask(question: string, fallback: string | undefined) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `);
    } finally {
      rl.close();
    }
  },
  async confirm(question: string) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  },
};

process.exitCode = await main(process.argv.slice(2), io);
