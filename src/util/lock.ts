import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { OperatorError } from '../errors.js';
import { type Clock, systemClock } from '../model/clock.js';
import { formatDuration } from '../model/duration.js';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

/** Another run held the lock for longer than the caller would wait. */
export class LockTimeoutError extends OperatorError {
  constructor(
    readonly path: string,
    readonly holder: LockHolder | undefined,
    waitedMs: number,
  ) {
    const who = holder
      ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.started})`
      : 'another run';
    super(
      `${who} holds ${path}; waited ${formatDuration(waitedMs)}. Nothing was changed: try again when it ends, or give --lock-timeout`,
    );
  }
}

export interface LockOptions {
  timeoutMs: number;
  command: string;
  /** Told once when the lock is busy, and when a dead run's lock is taken over. */
  onNotice?: (text: string) => void;
  pollMs?: number;
  /** Whose time the wait is measured and slept on (default: the system's). */
  clock?: Clock;
}

/** A lock file created whole or not at all (O_EXCL), naming its holder. */
function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(path: string): { holder: LockHolder | undefined; text: string; ageMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    // The file system stamps the file with the machine's time: its age is read on that clock too.
    const ageMs = Date.now() - statSync(path).mtimeMs;
    try {
      return { holder: JSON.parse(text) as LockHolder, text, ageMs };
    } catch {
      return { holder: undefined, text, ageMs };
    }
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock whose holder is a process of this machine that no longer runs (or a file left half-written). */
function stale(found: NonNullable<ReturnType<typeof read>>): boolean {
  if (!found.holder) return found.ageMs > 10_000;
  return found.holder.host === hostname() && !alive(found.holder.pid);
}

/**
 * Takes the lock at `path` for this process, waiting up to the timeout while
 * another run holds it; a lock left by a run that died is taken over, and
 * says so. Returns the function that releases it.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const clock = options.clock ?? systemClock;
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: new Date(clock.now()).toISOString(),
    command: options.command,
  };
  const mine = JSON.stringify(holder);
  const started = clock.now();
  const poll = options.pollMs ?? 200;
  let told = false;
  for (;;) {
    if (tryCreate(path, holder)) {
      return () => {
        if (read(path)?.text === mine) rmSync(path, { force: true });
      };
    }
    const found = read(path);
    if (found && stale(found)) {
      // Only one run may take a dead run's lock over: the one that creates the takeover file.
      const takeover = `${path}.takeover`;
      if (tryCreate(takeover, holder)) {
        try {
          const again = read(path);
          if (again && again.text === found.text && stale(again)) {
            rmSync(path, { force: true });
            options.onNotice?.(
              found.holder
                ? `took over ${path}, left by ${found.holder.command} (pid ${found.holder.pid}, since ${found.holder.started}), which is no longer running`
                : `took over ${path}, left half-written by a run that died`,
            );
          }
        } finally {
          rmSync(takeover, { force: true });
        }
        continue;
      }
      const other = read(takeover);
      if (other && other.ageMs > 30_000) rmSync(takeover, { force: true });
    }
    const waited = clock.now() - started;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(path, found?.holder, waited);
    if (!told && found?.holder) {
      told = true;
      options.onNotice?.(
        `waiting for ${found.holder.command} (pid ${found.holder.pid} on ${found.holder.host}, since ${found.holder.started}) to finish`,
      );
    }
    await clock.sleep(Math.min(poll, options.timeoutMs - waited));
  }
}
