// The flags of the commands that plan against the apps (plan, apply,
// reconcile, status). Light: main builds every command from it.
import type { Command } from 'commander';
import { DEFAULT_LOCK_TIMEOUT } from './io.js';

export interface RunOptions {
  /** After applying, delete ended grant files in one commit and push it. */
  commit?: boolean;
  /** Push the apply record (a git note) to the remote; commander's --no-push sets it false. */
  push?: boolean;
  repo?: string;
  at?: string;
  app?: string;
  strict?: boolean;
  allowMassRemoval?: boolean;
  lockTimeout?: string;
  /** Also append the apply record to this file: a copy kept outside git (a CI artifact). */
  recordFile?: string;
}

/** The flags every command that plans takes. */
export function engineFlags(command: Command): Command {
  return command
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--at <iso>', 'evaluate grants at this instant instead of now')
    .option('--app <id>', 'only this app')
    .option('--strict', 'an app whose credentials are missing fails the run instead of being skipped')
    .option('--allow-mass-removal', 'let a run remove more than the limits in _settings.yaml allow')
    .option(
      '--lock-timeout <duration>',
      `how long to wait for another run on this repository or app (default ${DEFAULT_LOCK_TIMEOUT})`,
    );
}

/** Where a run's apply record goes. */
export function recordFlags(command: Command): Command {
  return command
    .option('--yes', 'apply without asking')
    .option('--no-push', 'keep the apply record (a git note) local instead of pushing it')
    .option('--record-file <file>', 'also append the apply record to this file (for a CI artifact)');
}
