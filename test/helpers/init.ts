import type { InitOptions } from '../../src/flow/init.js';
import { type CliResult, runCli } from './cli.js';

/**
 * `iden init` in-process, its options given as the flags they stand for,
 * without its `npm install` unless asked (the first-day test runs the real
 * one, from a local package cache).
 */
export async function initRepo(
  dir: string | undefined,
  options: InitOptions,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const flags = Object.entries({ install: false, ...options }).flatMap(([key, value]) => {
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (value === true) return [flag];
    if (value === false) return [`--no-${flag.slice(2)}`];
    return value === undefined ? [] : [flag, String(value)];
  });
  return runCli(['init', ...(dir === undefined ? [] : [dir]), ...flags], { env });
}
