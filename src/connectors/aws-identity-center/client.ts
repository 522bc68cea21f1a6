import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Clock } from '../../model/clock.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import { credentialsFrom, regionOf } from './credentials.js';
import type { AwsIdentityCenterConnector } from './settings.generated.js';

export interface Clients {
  store: IdentitystoreClient;
  admin: SSOAdminClient;
  /** Requests sent, by operation: what the bench and the tests count. */
  calls: Map<string, number>;
}

/**
 * The two SDK clients, as the connector uses them: credentials from the
 * environment iden was given, every request bounded by timeoutMs, and no
 * retries of their own (maxAttempts 1): the run retries, in one place;
 * every request paced under AWS's rate. An
 * endpoint set in the environment (AWS_ENDPOINT_URL_IDENTITYSTORE,
 * AWS_ENDPOINT_URL_SSO_ADMIN, AWS_ENDPOINT_URL: the SDK's own names) is used
 * for a test server or a VPC endpoint.
 */
export async function createClients(
  settings: AwsIdentityCenterConnector,
  env: NodeJS.ProcessEnv,
  pacer: Pacer,
): Promise<Clients> {
  const timeout = settings.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const credentials = await credentialsFrom(env);
  const region = regionOf(settings, env);
  const calls = new Map<string, number>();
  const common = (endpoint: string | undefined) => ({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    credentials,
    maxAttempts: 1,
    // Without throwOnRequestTimeout the handler only warns, and a silent AWS would hold the run.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeout,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
    }),
  });
  const store = new IdentitystoreClient(
    common(env.AWS_ENDPOINT_URL_IDENTITYSTORE || env.AWS_ENDPOINT_URL || undefined),
  );
  const admin = new SSOAdminClient(
    common(env.AWS_ENDPOINT_URL_SSO_ADMIN || env.AWS_ENDPOINT_URL || undefined),
  );
  const count = (name: string | undefined) =>
    calls.set(name ?? 'unknown', (calls.get(name ?? 'unknown') ?? 0) + 1);
  store.middlewareStack.add(
    (next, context) => async (args) => {
      await pacer.beforeRequest();
      count(context.commandName);
      return next(args);
    },
    { step: 'initialize', name: 'idenCallCounter' },
  );
  admin.middlewareStack.add(
    (next, context) => async (args) => {
      await pacer.beforeRequest();
      count(context.commandName);
      return next(args);
    },
    { step: 'initialize', name: 'idenCallCounter' },
  );
  return { store, admin, calls };
}

/**
 * Requests no faster than `perSecond`, on the run's clock: AWS allows the
 * Identity Center APIs 20 transactions a second in all (a quota that cannot
 * be raised), shared with every other caller in the account.
 */
export class Pacer {
  private next = Number.NEGATIVE_INFINITY;
  /** Time spent waiting, in milliseconds: what the bench reports. */
  waited = 0;

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock,
  ) {}

  async beforeRequest(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) {
      this.waited += at - now;
      await this.clock.sleep(at - now);
    }
  }
}

/**
 * At most `size` asynchronous assignment requests in flight: AWS allows ten
 * outstanding CreateAccountAssignment calls, a quota that cannot be raised.
 */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** A slot if one is free now. */
  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** A slot, once one is free: only for a caller that holds none (it could otherwise wait on itself). */
  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}
