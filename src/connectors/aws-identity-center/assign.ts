import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
} from '@aws-sdk/client-sso-admin';
import type { Clock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';
import type { Clients, Slots } from './client.js';
import { notFound } from './errors.js';

export interface AssignContext {
  clients: Clients;
  instanceArn: string;
  /** The session's share of AWS's ten outstanding assignment requests. */
  slots: Slots;
  clock: Clock;
  /** How long AWS's asynchronous work is waited for, in all. */
  timeoutMs: number;
}

export interface Assignment {
  action: 'grant' | 'revoke';
  permissionSetArn: string;
  userId: string;
}

export interface Settled {
  failed: { account: string; reason: string }[];
  /** Still in progress when the wait ran out: request ids by account. */
  waiting: Map<string, string>;
  /** Not asked for before the wait ran out (AWS's ten outstanding requests were taken). */
  notStarted: string[];
}

/** Waits between status reads: soon at first (most finish in seconds), then every 5 s. */
const INTERVALS = [1000, 2000, 3000, 5000];

/**
 * Creates (or deletes) one user's assignment of a permission set in each
 * account, then reads the status of each request until it succeeds or
 * fails, within the wait, never holding more of AWS's outstanding requests
 * than the session's slots allow. `pending` keeps the requests in flight
 * across a retry of the step, so a retry goes on reading them instead of
 * asking again; `settle` is told of each account done.
 */
export async function assignInAccounts(
  context: AssignContext,
  assignment: Assignment,
  accounts: readonly string[],
  pending: Map<string, string>,
  settle: (account: string) => void,
): Promise<Settled> {
  const { clients, instanceArn, slots, clock } = context;
  const failed: Settled['failed'] = [];
  const queue = accounts.filter((a) => !pending.has(a));
  let held = 0;
  const free = () => {
    held--;
    slots.release();
  };
  const target = (account: string) => ({
    InstanceArn: instanceArn,
    TargetId: account,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn: assignment.permissionSetArn,
    PrincipalType: 'USER' as const,
    PrincipalId: assignment.userId,
  });
  const take = (account: string, status: AccountAssignmentOperationStatus | undefined) => {
    if (status?.Status === 'SUCCEEDED') {
      pending.delete(account);
      settle(account);
      free();
    } else if (status?.Status === 'FAILED') {
      pending.delete(account);
      failed.push({ account, reason: status.FailureReason || 'no reason given' });
      free();
    } else if (status?.RequestId) pending.set(account, status.RequestId);
    else free();
  };
  const send = async (account: string) => {
    if (assignment.action === 'grant') {
      const out = await clients.admin.send(new CreateAccountAssignmentCommand(target(account)));
      return take(account, out.AccountAssignmentCreationStatus);
    }
    try {
      const out = await clients.admin.send(new DeleteAccountAssignmentCommand(target(account)));
      take(account, out.AccountAssignmentDeletionStatus);
    } catch (e) {
      if (!notFound(e)) throw e;
      settle(account);
      free();
    }
  };
  const deadline = clock.now() + context.timeoutMs;
  try {
    // Requests an earlier attempt left in flight are still AWS's to count.
    for (let i = 0; i < pending.size; i++) {
      await slots.acquire();
      held++;
    }
    for (let poll = 0; ; ) {
      while (queue.length > 0) {
        // Holding none, waiting for a slot cannot wait on itself; holding some, read them on instead.
        if (held === 0) await slots.acquire();
        else if (!slots.tryAcquire()) break;
        held++;
        await send(queue.shift()!);
      }
      if ((pending.size === 0 && queue.length === 0) || clock.now() >= deadline) break;
      await clock.sleep(Math.min(INTERVALS[Math.min(poll++, INTERVALS.length - 1)]!, deadline - clock.now()));
      for (const [account, id] of [...pending]) take(account, await status(context, assignment.action, id));
    }
  } finally {
    for (; held > 0; held--) slots.release();
  }
  return { failed, waiting: new Map(pending), notStarted: queue };
}

async function status(
  { clients, instanceArn }: AssignContext,
  action: Assignment['action'],
  requestId: string,
): Promise<AccountAssignmentOperationStatus | undefined> {
  if (action === 'grant')
    return (
      await clients.admin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentCreationRequestId: requestId,
        }),
      )
    ).AccountAssignmentCreationStatus;
  return (
    await clients.admin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentDeletionRequestId: requestId,
      }),
    )
  ).AccountAssignmentDeletionStatus;
}

/** Why an assignment did not finish, as people read it; undefined when it did. */
export function unsettled(settled: Settled, timeoutMs: number): string | undefined {
  const parts = settled.failed.map((f) => `in ${f.account} AWS reported FAILED: ${f.reason}`);
  if (settled.notStarted.length > 0)
    parts.push(`in ${settled.notStarted.join(', ')} not asked for within ${formatDuration(timeoutMs)}`);
  if (settled.waiting.size > 0)
    parts.push(
      `in ${[...settled.waiting.keys()].join(', ')} still in progress after ${formatDuration(timeoutMs)} (request ${[...settled.waiting.values()].join(', ')}); the next run sees whether it took effect`,
    );
  return parts.length > 0 ? parts.join('; ') : undefined;
}
