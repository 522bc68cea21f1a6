import type { Registry } from '../connectors/catalog.js';
import type { Questions } from '../flow/questions.js';
import type { Clock } from '../model/clock.js';
import type { RetryPolicy } from '../reconcile/retry.js';

/** What a command needs from the process, passed in so tests can call main() directly. */
export interface Io {
  /** Where the time is read: the system clock, or a test's. */
  clock: Clock;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stdin and stdout are a terminal a person can answer on. */
  interactive: boolean;
  /**
   * The questions a person answers on the terminal, one prompt library for
   * every command (src/cli/prompts.ts); on stderr where stdout carries JSON.
   */
  questions: (toStderr: boolean) => Promise<Questions>;
  /**
   * Which output streams are a terminal: colours go to stdout only when it is
   * one, progress lines to stderr only when it is one. Absent: neither (piped,
   * or a test's captured output).
   */
  terminal?: { stdout: boolean; stderr: boolean };
}

/**
 * Whether human output on `stream` is coloured: FORCE_COLOR (anything but
 * 0 or false) turns colours on even when piped, NO_COLOR (any value but "") turns
 * them off, TERM=dumb too; else only on a terminal.
 * See https://no-color.org and https://force-color.org.
 */
export function colourOn(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.TERM === 'dumb') return false;
  return io.terminal?.[stream] === true;
}

/**
 * What the engine is built with, where a caller other than the process
 * chooses: tests pass wrapped connectors or shorter waits. Apart from Io,
 * which is only what a command needs from the process.
 */
export interface Engine {
  /** The connectors to use. Default: the registry. */
  registry?: Registry;
  /** How transient errors are retried. */
  retry?: RetryPolicy;
  /** How long an embedded-database statement may take before it is taken to have stopped. */
  embeddedTimeoutMs?: number;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, changes: 2 } as const;

export { UsageError } from '../errors.js';

/** The lock is held by another run for at most this long by default: CI jobs are serialised anyway. */
export const DEFAULT_LOCK_TIMEOUT = '5m';
