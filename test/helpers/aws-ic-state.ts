import { randomUUID } from 'node:crypto';
import {
  type AssignmentRequest,
  AwsFault,
  type CenterServer,
  INSTANCE_ARN,
  STORE_ID,
  type StoreGroup,
} from './aws-ic-server.js';

type Input = Record<string, unknown>;
/** A fixed instant for CreatedDate: test servers never read the calendar. */
const CREATED = 1_796_212_800;

/** An id of the Identity Store's form: ten hex digits, a dash, a UUID. */
export function storeId(): string {
  return `9067${randomUUID().replace(/-/g, '').slice(0, 6)}-${randomUUID()}`;
}

/** One page of a listing, as NextToken and MaxResults ask; a token that was not issued for this listing is refused. */
function page<T>(
  server: CenterServer,
  listing: string,
  items: T[],
  input: Input,
): { items: T[]; next?: string } {
  let offset = 0;
  if (input.NextToken !== undefined) {
    const token = server.data.tokens.get(String(input.NextToken));
    if (!token || token.listing !== listing)
      throw new AwsFault('ValidationException', 'The NextToken is not valid.');
    offset = token.offset;
  }
  const size = Math.min(Number(input.MaxResults ?? 100), server.faults.pageCap ?? Number.POSITIVE_INFINITY);
  const slice = items.slice(offset, offset + size);
  if (offset + size >= items.length) return { items: slice };
  const next = randomUUID();
  server.data.tokens.set(next, { listing, offset: offset + size });
  return { items: slice, next };
}

function store(input: Input): void {
  if (input.IdentityStoreId !== STORE_ID)
    throw new AwsFault('ResourceNotFoundException', 'Identity store not found.', {
      ResourceType: 'IDENTITY_STORE',
      ResourceId: String(input.IdentityStoreId),
    });
}

function instance(input: Input): void {
  if (input.InstanceArn !== INSTANCE_ARN)
    throw new AwsFault('ResourceNotFoundException', 'Instance not found.');
}

function group(server: CenterServer, id: unknown): StoreGroup {
  const found = server.data.groups.get(String(id));
  if (!found)
    throw new AwsFault('ResourceNotFoundException', 'Group not found.', {
      ResourceType: 'GROUP',
      ResourceId: String(id),
    });
  return found;
}

function uniqueValue(input: Input, path: string): string {
  const unique = (
    input.AlternateIdentifier as { UniqueAttribute?: { AttributePath: string; AttributeValue: unknown } }
  ).UniqueAttribute;
  if (!unique || unique.AttributePath.toLowerCase() !== path.toLowerCase())
    throw new AwsFault('ValidationException', `Only ${path} is supported here.`);
  return String(unique.AttributeValue);
}

const key = (account: string, arn: string, type: string, principal: string) =>
  `${account}|${arn}|${type}|${principal}`;

function identityStore(server: CenterServer, operation: string, input: Input): unknown {
  const { data } = server;
  store(input);
  switch (operation) {
    case 'ListUsers': {
      const { items, next } = page(server, 'users', [...data.users.values()], input);
      return {
        Users: items.map((u) => ({ UserId: u.id, UserName: u.userName, IdentityStoreId: STORE_ID })),
        ...(next ? { NextToken: next } : {}),
      };
    }
    case 'GetUserId': {
      const name = uniqueValue(input, 'userName').toLowerCase();
      const user = [...data.users.values()].find((u) => u.userName.toLowerCase() === name);
      if (!user) throw new AwsFault('ResourceNotFoundException', 'USER not found.', { ResourceType: 'USER' });
      return { UserId: user.id, IdentityStoreId: STORE_ID };
    }
    case 'GetGroupId': {
      const name = uniqueValue(input, 'displayName');
      const found = [...data.groups.values()].find((g) => g.displayName === name);
      if (!found)
        throw new AwsFault('ResourceNotFoundException', 'GROUP not found.', { ResourceType: 'GROUP' });
      return { GroupId: found.id, IdentityStoreId: STORE_ID };
    }
    case 'DescribeGroup': {
      const found = group(server, input.GroupId);
      return { GroupId: found.id, DisplayName: found.displayName, IdentityStoreId: STORE_ID };
    }
    case 'ListGroupMemberships': {
      const found = group(server, input.GroupId);
      const { items, next } = page(server, `members ${found.id}`, [...found.members], input);
      return {
        GroupMemberships: items.map(([MembershipId, UserId]) => ({
          IdentityStoreId: STORE_ID,
          MembershipId,
          GroupId: found.id,
          MemberId: { UserId },
        })),
        ...(next ? { NextToken: next } : {}),
      };
    }
    case 'CreateGroupMembership': {
      const found = group(server, input.GroupId);
      const user = String((input.MemberId as { UserId: string }).UserId);
      if (!data.users.has(user))
        throw new AwsFault('ResourceNotFoundException', 'USER not found.', {
          ResourceType: 'USER',
          ResourceId: user,
        });
      if ([...found.members.values()].includes(user))
        throw new AwsFault('ConflictException', 'Member and Group relationship already exists.', {
          Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION',
        });
      const MembershipId = storeId();
      found.members.set(MembershipId, user);
      return { MembershipId, IdentityStoreId: STORE_ID };
    }
    case 'DeleteGroupMembership': {
      for (const g of data.groups.values()) if (g.members.delete(String(input.MembershipId))) return {};
      throw new AwsFault('ResourceNotFoundException', 'GROUP_MEMBERSHIP not found.', {
        ResourceType: 'GROUP_MEMBERSHIP',
        ResourceId: String(input.MembershipId),
      });
    }
    case 'GetGroupMembershipId': {
      const found = group(server, input.GroupId);
      const user = String((input.MemberId as { UserId: string }).UserId);
      const entry = [...found.members].find(([, u]) => u === user);
      if (!entry)
        throw new AwsFault('ResourceNotFoundException', 'GROUP_MEMBERSHIP not found.', {
          ResourceType: 'GROUP_MEMBERSHIP',
        });
      return { MembershipId: entry[0], IdentityStoreId: STORE_ID };
    }
  }
  throw new Error(`identitystore ${operation} is not served`);
}

function status(request: AssignmentRequest) {
  return {
    Status: request.status,
    RequestId: request.id,
    ...(request.failure ? { FailureReason: request.failure } : {}),
    TargetId: request.account,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: request.permissionSetArn,
    PrincipalType: request.principalType,
    PrincipalId: request.principalId,
    CreatedDate: request.created,
  };
}

/** An assignment request: created IN_PROGRESS; it settles on a later status read, as AWS's do in their own time. */
function request(server: CenterServer, kind: AssignmentRequest['kind'], input: Input): AssignmentRequest {
  const { data } = server;
  instance(input);
  const arn = String(input.PermissionSetArn);
  if (!data.permissionSets.has(arn))
    throw new AwsFault('ResourceNotFoundException', 'Permission set not found.');
  const principalType = input.PrincipalType as 'USER' | 'GROUP';
  const principalId = String(input.PrincipalId);
  const exists = principalType === 'USER' ? data.users.has(principalId) : data.groups.has(principalId);
  if (!exists) throw new AwsFault('ResourceNotFoundException', `${principalType} ${principalId} not found.`);
  const k = key(String(input.TargetId), arn, principalType, principalId);
  if ([...data.requests.values()].some((r) => r.key === k && r.status === 'IN_PROGRESS'))
    throw new AwsFault(
      'ConflictException',
      'An account assignment operation is already in progress for this assignment.',
    );
  const made: AssignmentRequest = {
    id: randomUUID(),
    kind,
    key: k,
    account: String(input.TargetId),
    permissionSetArn: arn,
    principalType,
    principalId,
    status: 'IN_PROGRESS',
    reads: 0,
    created: CREATED,
  };
  data.requests.set(made.id, made);
  const inFlight = [...data.requests.values()].filter((r) => r.status === 'IN_PROGRESS').length;
  server.maxInFlight = Math.max(server.maxInFlight, inFlight);
  return made;
}

function settle(server: CenterServer, kind: AssignmentRequest['kind'], id: unknown): AssignmentRequest {
  const found = server.data.requests.get(String(id));
  if (!found || found.kind !== kind) throw new AwsFault('ResourceNotFoundException', 'Request not found.');
  found.reads++;
  if (found.status === 'IN_PROGRESS' && found.reads >= (server.faults.settleAfter ?? 1)) {
    const reason = kind === 'create' ? server.faults.failAssignmentIn?.get(found.account) : undefined;
    if (reason !== undefined) {
      found.status = 'FAILED';
      found.failure = reason;
    } else {
      found.status = 'SUCCEEDED';
      if (kind === 'create') server.data.assignments.add(found.key);
      else server.data.assignments.delete(found.key);
    }
  }
  return found;
}

function ssoAdmin(server: CenterServer, operation: string, input: Input): unknown {
  const { data } = server;
  switch (operation) {
    case 'ListInstances':
      return { Instances: [{ InstanceArn: INSTANCE_ARN, IdentityStoreId: STORE_ID }] };
    case 'ListPermissionSets': {
      instance(input);
      const { items, next } = page(server, 'permission sets', [...data.permissionSets.keys()], input);
      return { PermissionSets: items, ...(next ? { NextToken: next } : {}) };
    }
    case 'DescribePermissionSet': {
      instance(input);
      const name = data.permissionSets.get(String(input.PermissionSetArn));
      if (name === undefined) throw new AwsFault('ResourceNotFoundException', 'Permission set not found.');
      return {
        PermissionSet: {
          Name: name,
          PermissionSetArn: input.PermissionSetArn,
          CreatedDate: CREATED,
          SessionDuration: 'PT1H',
        },
      };
    }
    case 'ListAccountAssignments': {
      instance(input);
      const prefix = `${input.AccountId}|${input.PermissionSetArn}|`;
      const held = [...data.assignments].filter((a) => a.startsWith(prefix));
      const { items, next } = page(server, `assignments ${prefix}`, held, input);
      return {
        AccountAssignments: items.map((a) => {
          const [AccountId, PermissionSetArn, PrincipalType, PrincipalId] = a.split('|');
          return { AccountId, PermissionSetArn, PrincipalType, PrincipalId };
        }),
        ...(next ? { NextToken: next } : {}),
      };
    }
    case 'CreateAccountAssignment':
      return { AccountAssignmentCreationStatus: status(request(server, 'create', input)) };
    case 'DeleteAccountAssignment':
      return { AccountAssignmentDeletionStatus: status(request(server, 'delete', input)) };
    case 'DescribeAccountAssignmentCreationStatus':
      instance(input);
      return {
        AccountAssignmentCreationStatus: status(
          settle(server, 'create', input.AccountAssignmentCreationRequestId),
        ),
      };
    case 'DescribeAccountAssignmentDeletionStatus':
      instance(input);
      return {
        AccountAssignmentDeletionStatus: status(
          settle(server, 'delete', input.AccountAssignmentDeletionRequestId),
        ),
      };
  }
  throw new Error(`sso-admin ${operation} is not served`);
}

/** Answers one validated call from the state, or throws the service's error. */
export function handle(
  server: CenterServer,
  service: 'identitystore' | 'sso-admin',
  operation: string,
  input: Input,
): unknown {
  return service === 'identitystore'
    ? identityStore(server, operation, input)
    : ssoAdmin(server, operation, input);
}

/** Test set-up: users, groups with members, permission sets and assignments, made as the service would hold them. */
export function seed(server: CenterServer) {
  const { data } = server;
  return {
    user(userName: string): string {
      const id = storeId();
      data.users.set(id, { id, userName });
      return id;
    },
    group(displayName: string, members: string[] = []): StoreGroup {
      const made: StoreGroup = { id: storeId(), displayName, members: new Map() };
      for (const m of members) made.members.set(storeId(), m);
      data.groups.set(made.id, made);
      return made;
    },
    permissionSet(name: string): string {
      const arn = `arn:aws:sso:::permissionSet/ssoins-7223e8b1f2a1c3d4/ps-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      data.permissionSets.set(arn, name);
      return arn;
    },
    assign(account: string, arn: string, type: 'USER' | 'GROUP', principal: string): void {
      data.assignments.add(key(account, arn, type, principal));
    },
    holds(account: string, arn: string, type: 'USER' | 'GROUP', principal: string): boolean {
      return data.assignments.has(key(account, arn, type, principal));
    },
  };
}
