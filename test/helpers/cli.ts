import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { Questions } from '../../src/flow/questions.js';
import { type Clock, ManualClock } from '../../src/model/clock.js';
import type { RetryPolicy } from '../../src/reconcile/retry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The instant tests run at unless they say otherwise: the day the README's
 * samples are dated. No test reads the calendar.
 */
export const TEST_NOW = Date.parse('2026-11-27T12:00:00Z');

/** Questions answered by a test: every confirmation as given; anything else asked is a failure of the test. */
export function answering(confirm: boolean): Questions {
  const unexpected = (q: { message: string }) =>
    Promise.reject(new Error(`a test asked "${q.message}" unexpectedly`));
  return {
    select: unexpected,
    search: unexpected,
    checkbox: unexpected,
    input: unexpected,
    confirm: async () => confirm,
  };
}

/** An Io that says nothing and asks nothing: for building the command tree (`program`) without running it. */
export function quietIo(): Io {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    env: {},
    cwd: '.',
    interactive: false,
    clock: new ManualClock(TEST_NOW),
    questions: async () => answering(false),
  };
}

/** Runs iden in-process, as the bin does, capturing its output; the clock starts at TEST_NOW unless given. */
export async function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    answer?: boolean;
    retry?: RetryPolicy;
    clock?: Clock;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    args,
    {
      // Virtual time: waits (a rate limit, a retry's backoff) move the clock on at once.
      clock: options.clock ?? new ManualClock(TEST_NOW, { sleeps: 'advance' }),
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: options.env ?? {},
      cwd: options.cwd ?? process.cwd(),
      interactive: options.answer !== undefined,
      questions: async () => answering(options.answer ?? false),
    },
    options.retry ? { retry: options.retry } : {},
  );
  return { code, stdout, stderr };
}

export async function validateJson(repo: string, ...extra: string[]) {
  const result = await runCli([
    'validate',
    '--repo',
    repo,
    '--format',
    'json',
    '--at',
    '2026-11-27T12:00:00Z',
    ...extra,
  ]);
  return { ...result, json: JSON.parse(result.stdout) as { ok: boolean; diagnostics: Diag[] } };
}

export interface Diag {
  file: string;
  line: number;
  column: number;
  severity: string;
  code: string;
  message: string;
}
