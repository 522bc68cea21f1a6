import { groupBy } from '../../util/group-by.js';
import {
  AppStoppedError,
  type Change,
  inOrder,
  type Step,
  type StepResult,
  TransientError,
} from '../types.js';
import { byChange, grantMany, revokeMany } from './batch.js';
import { BatchFailed, statementFailed } from './errors.js';
import { grant, revoke, type StepContext } from './steps.js';

/** Changes a step carries at most: a transaction of this size takes a few hundred milliseconds. */
export const BATCH_CHANGES = 500;

/**
 * Groups changes into steps: an account's changes of one direction always
 * together, as many accounts as fit in BATCH_CHANGES, and no fewer steps than
 * the app's concurrency where there is enough work to share.
 */
export function batchSteps(context: StepContext, changes: Change[], concurrency: number): Step[] {
  const steps: Step[] = [];
  for (const direction of ['grant', 'revoke'] as const) {
    const accounts = [
      ...groupBy(
        changes.filter((c) => c.action === direction),
        (c) => c.account,
      ).values(),
    ];
    const count = accounts.reduce((n, a) => n + a.length, 0);
    const size = Math.max(1, Math.min(BATCH_CHANGES, Math.ceil(count / concurrency)));
    let batch: Change[][] = [];
    let changesIn = 0;
    for (const account of accounts) {
      if (batch.length > 0 && changesIn + account.length > size) {
        steps.push(batchStep(context, batch));
        batch = [];
        changesIn = 0;
      }
      batch.push(account);
      changesIn += account.length;
    }
    if (batch.length > 0) steps.push(batchStep(context, batch));
  }
  return steps;
}

/**
 * Where its connection stays up, a step changes its accounts in one
 * transaction. When a write fails, the transaction is rolled back and each
 * account is changed in a transaction of its own: one that fails terminally
 * fails its own changes only; those that fail for a passing reason are tried
 * again (the step throws TransientError) without the accounts already
 * changed, whose results the step keeps (Step.settled) should the retries
 * give up.
 */
function batchStep(context: StepContext, accounts: Change[][]): Step {
  const changes = accounts.flat();
  const settled = new Map<Change, StepResult>();
  const settle = (results: StepResult[]) => {
    for (const r of results) settled.set(r.change, r);
  };
  const one = async (account: Change[]) =>
    inOrder(
      account,
      await (account[0]!.action === 'grant' ? grant(context, account) : revoke(context, account)),
    );
  return {
    changes,
    settled: () => [...settled.values()],
    run: async () => {
      const pending = accounts.filter((a) => !settled.has(a[0]!));
      // One account is the transaction of its own already: its failure is the step's.
      if (accounts.length === 1) return one(accounts[0]!);
      if (pending.length > 1) {
        try {
          const many = pending[0]![0]!.action === 'grant' ? grantMany : revokeMany;
          settle(byChange(pending, await many(context, pending)));
          return changes.map((c) => settled.get(c)!);
        } catch (e) {
          if (!(e instanceof BatchFailed)) throw e;
        }
      }
      let again: TransientError | undefined;
      for (const account of pending) {
        try {
          settle(await one(account));
        } catch (e) {
          if (e instanceof AppStoppedError || !(e instanceof Error)) throw e;
          if (e instanceof TransientError) {
            // A connection that is gone fails every account after it the same way: tried again as a whole.
            if (!statementFailed(e.cause)) throw e;
            again ??= e;
            continue;
          }
          settle(account.map((change) => ({ change, outcome: 'failed', error: e.message })));
        }
      }
      if (again) throw again;
      return changes.map((c) => settled.get(c)!);
    },
  };
}
