import { UsageError } from './io.js';

export function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`${name} must be one of ${allowed.join(', ')}, not "${value}"`);
    }
    return value as T;
  };
}
