import { UsageError } from './io.js';

export function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`${name} must be one of ${allowed.join(', ')}, not "${value}"`);
    }
    return value as T;
  };
}

/** The "Examples:" block of a command's --help. */
export const examples = (...lines: string[]): string =>
  `\nExamples:\n${lines.map((l) => (l.startsWith('#') ? `  ${l}` : `  $ ${l}`)).join('\n')}\n`;
