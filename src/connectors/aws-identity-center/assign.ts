import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
} from '@aws-sdk/client-sso-admin';
import type { Clock } from '../../model/clock.js';
import { formatDuration } from '../../model/duration.js';
import type { Clients, WritePacer } from './client.js';
import { notFound } from './errors.js';

export interface AssignContext {
  clients: Clients;
  instanceArn: string;
  pacer: WritePacer;
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
}

/** Waits between status reads: soon at first (most finish in seconds), then every 5 s. */
const INTERVALS = [1000, 2000, 3000, 5000];

/**
 * Creates (or deletes) one user's assignment of a permission set in each
 * account, then reads the status of each request until it succeeds or
 * fails, within the wait. `pending` keeps the requests in flight across a
 * retry of the step, so a retry goes on reading them instead of asking
 * again; `settle` is told of each account done.
 */
export async function assignInAccounts(
  context: AssignContext,
  assignment: Assignment,
  accounts: readonly string[],
  pending: Map<string, string>,
  settle: (account: string) => void,
): Promise<Settled> {
  const { clients, instanceArn, pacer, clock } = context;
  const failed: Settled['failed'] = [];
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
    } else if (status?.Status === 'FAILED') {
      pending.delete(account);
      failed.push({ account, reason: status.FailureReason || 'no reason given' });
    } else if (status?.RequestId) pending.set(account, status.RequestId);
  };
  for (const account of accounts) {
    if (pending.has(account)) continue;
    await pacer.beforeWrite();
    if (assignment.action === 'grant') {
      const out = await clients.admin.send(new CreateAccountAssignmentCommand(target(account)));
      take(account, out.AccountAssignmentCreationStatus);
    } else {
      try {
        const out = await clients.admin.send(new DeleteAccountAssignmentCommand(target(account)));
        take(account, out.AccountAssignmentDeletionStatus);
      } catch (e) {
        if (!notFound(e)) throw e;
        settle(account);
      }
    }
  }
  const deadline = clock.now() + context.timeoutMs;
  for (let poll = 0; pending.size > 0 && clock.now() < deadline; poll++) {
    await clock.sleep(Math.min(INTERVALS[Math.min(poll, INTERVALS.length - 1)]!, deadline - clock.now()));
    for (const [account, id] of [...pending]) take(account, await status(context, assignment.action, id));
  }
  return { failed, waiting: new Map(pending) };
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
  if (settled.waiting.size > 0)
    parts.push(
      `in ${[...settled.waiting.keys()].join(', ')} still in progress after ${formatDuration(timeoutMs)} (request ${[...settled.waiting.values()].join(', ')}); the next run sees whether it took effect`,
    );
  return parts.length > 0 ? parts.join('; ') : undefined;
}
