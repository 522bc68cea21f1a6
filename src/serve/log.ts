import type { Clock } from '../model/clock.js';

export type Level = 'info' | 'warn' | 'error';
export type Logger = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

/** One line a record: JSON for a log collector, or text for a person; time from the daemon's clock. */
export function makeLogger(format: 'text' | 'json', write: (line: string) => void, clock: Clock): Logger {
  return (level, msg, fields = {}) => {
    const time = new Date(clock.now()).toISOString();
    if (format === 'json') write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
    else
      write(
        `${time} ${level.padEnd(5)} ${msg}${Object.entries(fields)
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('')}\n`,
      );
  };
}
