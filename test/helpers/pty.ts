import { spawn } from 'node:child_process';

export interface Keys {
  /** Wait until the screen since the last keys shows this. */
  see: RegExp;
  /** Then type this (\r is Enter, \x1b[B the down arrow, ' ' space). */
  type: string;
}

export interface Session {
  code: number | null;
  /** Everything shown, the terminal's control sequences taken out. */
  screen: string;
  /** How many steps were reached. */
  reached: number;
}

/**
 * Runs a command on a real pseudo-terminal (script(1)) and types each step's
 * keys once its text shows, as a person at the terminal would.
 */
export function onTerminal(
  command: string,
  steps: Keys[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Session> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', COLUMNS: '160', LINES: '50', ...options.env },
  });
  let screen = '';
  let since = '';
  let next = 0;
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  child.stdout.on('data', (chunk: Buffer) => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
    const text = chunk.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    screen += text;
    since += text;
    while (next < steps.length && steps[next]!.see.test(since)) {
      child.stdin.write(steps[next]!.type);
      since = '';
      next++;
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen, reached: next });
    }),
  );
}
