import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handle } from './aws-ic-state.js';
import { ServiceModel, type ServiceName } from './aws-model.js';
import { verifySignature } from './aws-sigv4.js';

export const REGION = 'eu-west-1';
export const ACCESS_KEY = 'AKIAIDENTESTKEY00001';
export const SECRET_KEY = 'iden-test-secret/abcdefghijklmnopqrstuv';
export const STORE_ID = 'd-90670c0ffe';
export const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223e8b1f2a1c3d4';

/** An error as the service sends it: its shape name, members and, for throttling, a Retry-After. */
export class AwsFault extends Error {
  constructor(
    readonly shape: string,
    message: string,
    readonly members: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Faults injected by name: each takes effect on the next matching requests. */
export interface Faults {
  /** Answer the next `count` calls of `operation` (or of any, '*') with ThrottlingException. */
  throttle?: { operation: string; count: number; retryAfterSeconds?: number };
  /** Answer the next `count` calls of `operation` with InternalServerException (HTTP 500). */
  outage?: { operation: string; count: number };
  /** Answer the next `count` calls of `operation` with ExpiredTokenException, as when a session token runs out. */
  expire?: { operation: string; count: number };
  /** Hold the next call of `operation` open, never answering. */
  silence?: { operation: string; count: number };
  /** Account assignment creations in these accounts fail asynchronously, with this reason. */
  failAssignmentIn?: Map<string, string>;
  /** Status reads an assignment request takes before it settles (default 1). */
  settleAfter?: number;
  /** The most items a page holds, whatever MaxResults asks (AWS may return fewer). */
  pageCap?: number;
}

export interface StoreUser {
  id: string;
  userName: string;
}
export interface StoreGroup {
  id: string;
  displayName: string;
  /** Membership id to user id. */
  members: Map<string, string>;
}
export interface AssignmentRequest {
  id: string;
  kind: 'create' | 'delete';
  key: string;
  account: string;
  permissionSetArn: string;
  principalType: 'USER' | 'GROUP';
  principalId: string;
  status: 'IN_PROGRESS' | 'FAILED' | 'SUCCEEDED';
  reads: number;
  failure?: string;
  created: number;
}

/** The state of one Identity Center instance and its Identity Store. */
export interface CenterData {
  users: Map<string, StoreUser>;
  groups: Map<string, StoreGroup>;
  /** Permission-set ARN to name. */
  permissionSets: Map<string, string>;
  /** `account|arn|type|principal`. */
  assignments: Set<string>;
  requests: Map<string, AssignmentRequest>;
  /** Paging tokens issued: token to the listing and offset it continues. */
  tokens: Map<string, { listing: string; offset: number }>;
}

/**
 * A loopback IAM Identity Center: both services on one port (awsJson1_1,
 * told apart by X-Amz-Target), SigV4 verified with the SDK's own signer,
 * every request and response checked against AWS's service model, state
 * kept like the service (users, groups, memberships, permission sets,
 * account assignments created and deleted asynchronously), with throttling,
 * outages and silences injected by name. What it found wrong is in `errors`.
 */
export class CenterServer {
  readonly data: CenterData = {
    users: new Map(),
    groups: new Map(),
    permissionSets: new Map(),
    assignments: new Set(),
    requests: new Map(),
    tokens: new Map(),
  };
  readonly models = {
    identitystore: new ServiceModel('identitystore'),
    'sso-admin': new ServiceModel('sso-admin'),
  };
  readonly keys = new Map([[ACCESS_KEY, SECRET_KEY]]);
  faults: Faults = {};
  /** The most assignment requests that were in progress at once. */
  maxInFlight = 0;
  /** Operations called, in order (`AWSIdentityStore.ListUsers`…). */
  readonly calls: string[] = [];
  /** Problems found with requests and responses: a test asserts it is empty. */
  readonly errors: string[] = [];
  private server: Server | undefined;
  private held: ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((e) => {
        this.errors.push(`server fault: ${(e as Error).stack}`);
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const res of this.held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The environment iden runs with against this server. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: this.url,
      ...extra,
    };
  }

  /** Calls made, by bare operation name. */
  tally(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const call of this.calls) {
      const op = call.split('.')[1]!;
      out[op] = (out[op] ?? 0) + 1;
    }
    return out;
  }

  /** Calls of one operation, by its bare name (`ListUsers`). */
  count(operation: string): number {
    return this.calls.filter((c) => c.endsWith(`.${operation}`)).length;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix = '', operation = ''] = target.split('.');
    const service: ServiceName | undefined =
      prefix === this.models.identitystore.targetPrefix
        ? 'identitystore'
        : prefix === this.models['sso-admin'].targetPrefix
          ? 'sso-admin'
          : undefined;
    const model = service ? this.models[service] : undefined;
    const op = model?.operations[operation];
    if (!model || !op || req.method !== 'POST' || req.url !== '/') {
      this.errors.push(`unknown call: ${req.method} ${req.url} X-Amz-Target ${target}`);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException' }));
      return;
    }
    this.calls.push(target);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      this.errors.push(
        `${target}: content-type ${req.headers['content-type']}, not application/x-amz-json-1.1`,
      );
    const signature = await verifySignature({ method: 'POST', headers: req.headers, body }, this.keys, {
      service: model.signingName,
      region: REGION,
    });
    if (!signature.ok) {
      const status = signature.error === 'UnrecognizedClientException' ? 400 : 403;
      this.send(res, status, { __type: signature.error, message: signature.message });
      return;
    }
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      this.errors.push(`${target}: the body is not JSON`);
      return this.fail(res, model, operation, new AwsFault('ValidationException', 'Malformed JSON'));
    }
    const problems = model.check(op.input.shape, input);
    if (problems.length > 0) {
      this.errors.push(...problems.map((p) => `${target} request: ${p}`));
      return this.fail(res, model, operation, new AwsFault('ValidationException', problems.join('; ')));
    }
    const injected = this.injected(operation);
    if (injected === 'silence') {
      this.held.push(res);
      return;
    }
    if (injected === 'expired') {
      const message = 'The security token included in the request is expired';
      return this.send(res, 400, { __type: 'ExpiredTokenException', message });
    }
    if (injected) return this.fail(res, model, operation, injected);
    try {
      const output = handle(this, service!, operation, input);
      const wrong = op.output ? model.check(op.output.shape, output) : [];
      if (wrong.length > 0) this.errors.push(...wrong.map((p) => `${target} response: ${p}`));
      this.send(res, 200, output);
    } catch (e) {
      if (!(e instanceof AwsFault)) throw e;
      this.fail(res, model, operation, e);
    }
  }

  private injected(operation: string): AwsFault | 'silence' | 'expired' | undefined {
    const take = (fault: { operation: string; count: number } | undefined) => {
      if (!fault || fault.count <= 0 || (fault.operation !== '*' && fault.operation !== operation))
        return false;
      fault.count--;
      return true;
    };
    if (take(this.faults.silence)) return 'silence';
    if (take(this.faults.expire)) return 'expired';
    if (take(this.faults.throttle))
      return new AwsFault(
        'ThrottlingException',
        'Rate exceeded',
        {},
        this.faults.throttle?.retryAfterSeconds,
      );
    if (take(this.faults.outage))
      return new AwsFault('InternalServerException', 'We encountered an internal error.');
    return undefined;
  }

  private fail(res: ServerResponse, model: ServiceModel, operation: string, fault: AwsFault): void {
    const op = model.operations[operation]!;
    if (!op.errors.some((e) => e.shape === fault.shape))
      this.errors.push(`${model.targetPrefix}.${operation} never answers ${fault.shape}`);
    const spec = model.errors[fault.shape];
    if (!spec) this.errors.push(`no status known for ${fault.shape}`);
    const body: Record<string, unknown> = { Message: fault.message, ...fault.members };
    if (model.name === 'identitystore') body.RequestId = randomUUID();
    const headerBound = model.headerMembers(fault.shape);
    const wrong = model.check(fault.shape, body, '$', headerBound);
    if (wrong.length > 0) this.errors.push(...wrong.map((p) => `${fault.shape}: ${p}`));
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined && headerBound.has('RetryAfterSeconds'))
      headers['retry-after'] = String(fault.retryAfterSeconds);
    // identitystore names its errors with their Smithy namespace; sso-admin does not: the SDK reads both.
    const type = model.name === 'identitystore' ? `com.amazonaws.identitystore#${fault.shape}` : fault.shape;
    this.send(res, spec?.status ?? 400, { __type: type, ...body }, headers);
  }

  /** Protocol-level errors (signature, expired token) are AWS's front end's, in no operation's list. */
  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...headers,
    });
    res.end(JSON.stringify(body));
  }
}
