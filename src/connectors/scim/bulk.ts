import { groupBy } from '../../util/group-by.js';
import { count } from '../../util/plural.js';
import type { Change, StepResult } from '../types.js';
import type { UserPlan } from './decide.js';
import type { ScimGroup, ScimUser } from './read.js';
import type { ScimClient } from './transport.js';
import { translate } from './transport.js';
import { changedUser, type Mapping, newUser, type Op, PATCH_SCHEMA, type PersonInfo } from './users.js';

export interface BulkOp {
  method: 'POST' | 'PATCH';
  path: string;
  bulkId?: string;
  data: object;
  changes: Change[];
  account?: string;
  group?: string;
}

export interface BulkState {
  users: Map<string, ScimUser>;
  groups: Map<string, ScimGroup>;
  people: ReadonlyMap<string, PersonInfo> | undefined;
  mappingOf: (c: Change) => Mapping;
  /** What to do to an existing User, given the person's changes: the same judge as the PATCH path. */
  decide: (user: ScimUser, all: Change[]) => UserPlan;
}

export interface BulkPlan {
  ops: BulkOp[];
  /** Changes settled without an operation: refused, already so, or a removal from a User the service lacks. */
  settled: Map<Change, StepResult>;
}

/**
 * Where the service supports /Bulk, a run's changes in one direction go in
 * one request: new Users by bulkId, the groups that name them, and every User
 * patch. Undefined when the operations are fewer than `min` (one request
 * must replace at least two) or more than `max` (the service's limit).
 */
export function bulkPlan(
  changes: Change[],
  state: BulkState,
  limits: { min: number; max: number },
): BulkPlan | undefined {
  if (changes.length === 0) return undefined;
  const { users, groups, mappingOf } = state;
  const grant = changes[0]!.action === 'grant';
  const refs = new Map<string, string>();
  const settled = new Map<Change, StepResult>();
  const userOps: BulkOp[] = [];
  for (const [account, mine] of groupBy(changes, (c) => c.account.toLowerCase())) {
    const attrs = mine.filter((c) => mappingOf(c).group === undefined);
    const user = users.get(account);
    if (!user) {
      if (!grant) continue;
      const bulkId = `u${refs.size}`;
      refs.set(account, `bulkId:${bulkId}`);
      userOps.push({
        method: 'POST',
        path: '/Users',
        bulkId,
        data: newUser(mine[0]!.account, state.people?.get(mine[0]!.user), attrs, mappingOf),
        changes: attrs,
        account,
      });
      continue;
    }
    const plan = state.decide(user, mine);
    if (plan.refused) {
      for (const change of mine) settled.set(change, { change, outcome: 'failed', error: plan.refused });
      continue;
    }
    refs.set(account, user.id);
    if (plan.ops.length === 0) {
      for (const change of attrs) settled.set(change, { change, outcome: grant ? 'granted' : 'revoked' });
      continue;
    }
    userOps.push({
      method: 'PATCH',
      path: `/Users/${user.id}`,
      data: { schemas: [PATCH_SCHEMA], Operations: plan.ops },
      changes: attrs,
      account,
    });
  }
  const groupOps: BulkOp[] = [];
  for (const [name, batch] of groupBy(
    changes.filter((c) => mappingOf(c).group !== undefined && !settled.has(c)),
    (c) => mappingOf(c).group!,
  )) {
    const group = groups.get(name)!;
    const members = new Set((group.members ?? []).map((m) => m.value));
    const ref = (c: Change) => refs.get(c.account.toLowerCase());
    const adds = batch.filter((c) => c.action === 'grant' && ref(c));
    // One already in the group (an inactive member being reactivated) needs no add.
    for (const c of adds.filter((c) => members.has(ref(c)!)))
      settled.set(c, { change: c, outcome: 'granted' });
    const existing = adds.filter((c) => !ref(c)!.startsWith('bulkId:') && !members.has(ref(c)!));
    const remove = batch.filter((c) => c.action === 'revoke' && ref(c));
    const operations: Op[] = [];
    if (existing.length > 0)
      operations.push({ op: 'add', path: 'members', value: existing.map((c) => ({ value: ref(c)! })) });
    for (const c of remove)
      operations.push({ op: 'remove', path: `members[value eq ${JSON.stringify(ref(c)!)}]` });
    const patch = (ops: Op[], changes: Change[]): BulkOp => ({
      method: 'PATCH',
      path: `/Groups/${group.id}`,
      data: { schemas: [PATCH_SCHEMA], Operations: ops },
      changes,
      group: name,
    });
    if (operations.length > 0) groupOps.push(patch(operations, [...existing, ...remove]));
    // A new member joins by its own operation, so each refers to one bulkId: some services (SCIMMY 1.3)
    // resolve only one reference per operation. Still one request.
    for (const c of adds.filter((c) => ref(c)!.startsWith('bulkId:')))
      groupOps.push(patch([{ op: 'add', path: 'members', value: [{ value: ref(c)! }] }], [c]));
  }
  const ops = grant ? [...userOps, ...groupOps] : [...groupOps, ...userOps];
  return ops.length >= limits.min && ops.length <= limits.max ? { ops, settled } : undefined;
}

/** Sends the bulk request; each change's outcome (and a failed operation's reason) comes from its own operation. */
export async function runBulk(
  client: ScimClient,
  { ops, settled }: BulkPlan,
  changes: Change[],
  state: BulkState,
): Promise<StepResult[]> {
  if (ops.length === 0) return changes.map((change) => settled.get(change) ?? unsaid(change, ops));
  const body = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: ops.map(({ method, path, bulkId, data }) => ({
      method,
      path,
      ...(bulkId ? { bulkId } : {}),
      data,
    })),
  };
  let response: {
    Operations?: {
      status?: string | number;
      location?: string;
      response?: { detail?: string; scimType?: string };
    }[];
  };
  try {
    response = (await client.call<typeof response>('POST', '/Bulk', body)).data;
  } catch (e) {
    throw translate(e, `sending ${count(ops.length, 'operation')} in one bulk request`);
  }
  const results = new Map<Change, StepResult>();
  const ids = new Map<string, string>();
  (response.Operations ?? []).forEach((result, i) => {
    const op = ops[i];
    if (!op) return;
    const ok = Number(result.status) >= 200 && Number(result.status) < 300;
    if (ok && op.method === 'POST' && result.location && op.bulkId)
      ids.set(`bulkId:${op.bulkId}`, result.location.split('/').pop()!);
    const detail = result.response?.detail ?? result.response?.scimType;
    const error = `${op.method} ${op.path} in the bulk request: ${result.status}${detail ? `: ${detail}` : ''}`;
    for (const change of op.changes)
      results.set(
        change,
        ok
          ? { change, outcome: change.action === 'grant' ? 'granted' : 'revoked' }
          : { change, outcome: 'failed', error },
      );
    if (ok) remember(op, ids, state);
  });
  return changes.map((change) => results.get(change) ?? settled.get(change) ?? unsaid(change, ops));
}

/** A removal from a User the service does not have needed no operation; anything else without one failed. */
function unsaid(change: Change, ops: BulkOp[]): StepResult {
  return change.action === 'revoke' && !ops.some((op) => op.changes.includes(change))
    ? { change, outcome: 'unchanged' }
    : { change, outcome: 'failed', error: 'the bulk response says nothing of it' };
}

/** Keeps the session's picture of the service in step with a bulk operation that succeeded. */
function remember(op: BulkOp, ids: Map<string, string>, state: BulkState): void {
  const data = op.data as {
    userName?: string;
    externalId?: string;
    roles?: { value: string }[];
    entitlements?: { value: string }[];
    Operations?: Op[];
  };
  if (op.method === 'POST' && op.account && op.bulkId) {
    const id = ids.get(`bulkId:${op.bulkId}`);
    if (id)
      state.users.set(op.account, {
        id,
        userName: data.userName ?? op.account,
        ...(data.externalId ? { externalId: data.externalId } : {}),
        active: true,
        roles: data.roles ?? [],
        entitlements: data.entitlements ?? [],
      });
    return;
  }
  if (op.group) {
    const group = state.groups.get(op.group)!;
    const members = new Set((group.members ?? []).map((m) => m.value));
    for (const c of op.changes) {
      const user = state.users.get(c.account.toLowerCase());
      if (!user) continue;
      if (c.action === 'grant') members.add(user.id);
      else members.delete(user.id);
    }
    group.members = [...members].map((value) => ({ value }));
    return;
  }
  const user = op.account ? state.users.get(op.account) : undefined;
  if (!user) return;
  const active = data.Operations?.find((o) => o.path === 'active')?.value as boolean | undefined;
  const externalId = data.Operations?.find((o) => o.path === 'externalId')?.value as string | undefined;
  const next = changedUser(user, op.changes, state.mappingOf, active);
  if (externalId !== undefined) next.externalId = externalId;
  state.users.set(op.account!, next);
}
