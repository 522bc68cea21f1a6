// The flags and the JSON result the four flow commands (grant, change,
// revoke, offboard) share. Light: main builds every command from it.
import type { Command } from 'commander';
import type { Action, ProposalClassification } from '../policy/predict.js';
import { choice } from './options.js';

/** Flags every one of the four commands takes. */
export interface FlowFlags {
  repo?: string;
  reason?: string;
  branch?: string;
  /** false with --no-pr. */
  pr: boolean;
  yes?: boolean;
  format: 'text' | 'json';
  as?: string;
}

/** The contract of `--format json`. */
export interface ActionResult {
  action: Action;
  files: string[];
  branch: string;
  commit: string;
  classification: ProposalClassification;
  /** Person ids who can approve it (empty when no approval is needed). */
  approvers: string[];
  /** Whether it changes files other than grants (offboard --remove-person): a policy change. */
  policy: boolean;
  /** A rule marks the access privileged (docs/rules.md); absent otherwise. */
  privileged?: true;
  pr?: { number: number; url: string };
}

/** A repeatable option's values. */
export const repeat = (value: string, previous: string[] = []) => [...previous, value];

/** The flags the four commands share: where, and what the commit and the pull request carry. */
export function flowFlags(command: Command): Command {
  return command
    .option('--repo <dir>', 'the access repository root', '.')
    .option('--reason <text>', 'why: a ticket, a sentence (in the file, the commit and the pull request)')
    .option('--branch <name>', 'the branch to commit on (default: <action>/<app>/<user>)')
    .option('--no-pr', 'commit on the branch only: no push, no pull request')
    .option('--yes', 'ask nothing: take the flags (needed without a terminal)')
    .option('--as <login>', "your GitHub login, to predict the policy's verdict (default: the token's user)")
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text');
}
