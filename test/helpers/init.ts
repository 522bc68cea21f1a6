import { type InitOptions, runInit } from '../../src/cli/init.js';
import { UsageError } from '../../src/errors.js';
import { ManualClock } from '../../src/model/clock.js';
import { type CliResult, TEST_NOW } from './cli.js';

/**
 * `iden init` in-process without its `npm install` (the first-day test runs the
 * real one, from a local package cache): a usage error is exit 2, as main maps it.
 */
export async function initRepo(
  dir: string | undefined,
  options: InitOptions,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  try {
    const code = await runInit(
      dir,
      { install: false, ...options },
      {
        clock: new ManualClock(TEST_NOW),
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
        env,
        cwd: process.cwd(),
        interactive: false,
        confirm: async () => false,
      },
    );
    return { code, stdout, stderr };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { code: 2, stdout, stderr: `${stderr}iden: ${e.message}\n` };
  }
}
