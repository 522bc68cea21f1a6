import { groupBy } from '../../util/group-by.js';
import { count } from '../../util/plural.js';
import {
  AppStoppedError,
  type Change,
  type ConnectorContext,
  type Held,
  ObserveError,
  type Session,
  type Step,
  type StepResult,
  TerminalError,
  TransientError,
} from '../types.js';
import { CredentialsRefused } from './auth.js';
import { ReadRefused } from './crawl.js';
import type { Directory } from './directory.js';
import { BATCH_LIMIT, type Graph, passing, said } from './graph.js';
import { type Mapping, observeScope, type Scope } from './observe.js';
import { lastSignIns } from './usage.js';
import { groupJob, type Job, licenceJob, type Prepared, roleJob, type WriteContext } from './writes.js';

/**
 * A Microsoft Entra tenant as one app: direct membership of assigned
 * groups, app roles of enterprise apps, and licences assigned directly.
 * Users are only ever looked up, never created or deleted. Writes go 20 to
 * a JSON batch, one batch at a time; each change's outcome comes from its
 * own request's answer.
 */
export class EntraSession implements Session {
  readonly concurrency = 1;
  private scope: Scope | undefined;
  private readonly told = new Set<string>();

  constructor(
    private readonly graph: Graph,
    private readonly directory: Directory,
    private readonly mappings: readonly Mapping[],
    private readonly app: string,
    private readonly context: ConnectorContext,
  ) {}

  /** Calls made to Graph (batches count once), for the benchmark. */
  get calls(): number {
    return this.graph.calls;
  }

  /** Said once, when it happens. */
  private notice = (text: string) => {
    if (this.told.has(text)) return;
    this.told.add(text);
    this.context.onNotice?.(text);
  };

  async observe(): Promise<Held[]> {
    try {
      const { scope, held } = await observeScope(this.graph, this.directory, this.mappings, this.notice);
      this.scope = scope;
      return held;
    } catch (e) {
      if (e instanceof TransientError) throw e;
      throw new ObserveError((e as Error).message, { cause: e });
    }
  }

  /** Each user's last successful sign-in, read now (review start only: it needs AuditLog.Read.All). */
  lastUsed(): Promise<ReadonlyMap<string, string | null>> {
    return lastSignIns(this.graph);
  }

  private mappingOf = (c: Change): Mapping =>
    this.mappings.find(
      (m) => m.id === (c.entitlement ?? c.license) && m.license === (c.license !== undefined),
    )!;

  /**
   * Memberships and app roles one request each, a user's licences one
   * request; 20 requests to a batch, each batch a step. The accounts the
   * grants name are looked up once, by the first step, 15 to a filter.
   */
  steps(changes: Change[]): Step[] {
    const scope = this.scope;
    if (!scope) throw new Error('steps before observe');
    const ctx: WriteContext = {
      app: this.app,
      base: this.graph.base,
      scope,
      directory: this.directory,
      mappingOf: this.mappingOf,
    };
    const jobs: Job[] = [
      ...changes.filter((c) => this.mappingOf(c).group !== undefined).map((c) => groupJob(ctx, c)),
      ...changes.filter((c) => this.mappingOf(c).role !== undefined).map((c) => roleJob(ctx, c)),
      ...[
        ...groupBy(
          changes.filter((c) => this.mappingOf(c).sku !== undefined),
          (c) => c.account.toLowerCase(),
        ).values(),
      ].map((batch) => licenceJob(ctx, batch)),
    ];
    const accounts = changes.filter((c) => c.action === 'grant').map((c) => c.account);
    const ready = () => this.directory.resolveAccounts(this.graph, accounts);
    const steps: Step[] = [];
    for (let i = 0; i < jobs.length; i += BATCH_LIMIT)
      steps.push(this.batchStep(jobs.slice(i, i + BATCH_LIMIT), ready));
    return steps;
  }

  /**
   * One batch. A request Graph throttles (or cannot serve) makes the step
   * transient, to be run again after Retry-After; what the others did is
   * kept, and only the unsettled are sent again.
   */
  private batchStep(jobs: Job[], ready: () => Promise<void>): Step {
    const settled = new Map<Change, StepResult>();
    const changes = jobs.flatMap((j) => j.changes);
    return {
      changes,
      run: async () => {
        try {
          await ready();
          const sending: Prepared[] = [];
          for (const job of jobs.filter((j) => j.changes.some((c) => !settled.has(c)))) {
            const prepared = job.prepare();
            if (Array.isArray(prepared)) for (const r of prepared) settled.set(r.change, r);
            else sending.push(prepared);
          }
          const responses = await this.graph.batch(sending.map((p) => p.request)).catch((e: unknown) => {
            // No answer at all: everything is sent again, seats reserved for it included.
            for (const p of sending) p.release();
            throw e;
          });
          const again = responses.flatMap((response, i) => {
            if (passing(response.status)) {
              sending[i]!.release();
              return [response];
            }
            for (const r of sending[i]!.read(response)) settled.set(r.change, r);
            return [];
          });
          if (again.length > 0) {
            const waits = again.map((r) => this.graph.retryAfter(r) ?? 0);
            throw new TransientError(
              `${again.length} of ${count(sending.length, 'request')} to Graph ${again.length === 1 ? 'was' : 'were'} not served (${said(again[0]!)}); ${settled.size} of ${count(changes.length, 'change')} ${settled.size === 1 ? 'is' : 'are'} settled`,
              Math.max(...waits) || undefined,
            );
          }
          return changes.map((c) => settled.get(c)!);
        } catch (e) {
          throw translate(e);
        }
      },
    };
  }

  async close(): Promise<void> {}
}

/** Credentials refused stop the app's run; a read that cannot be used fails the step; passing trouble is retried. */
function translate(e: unknown): Error {
  if (e instanceof CredentialsRefused) return new AppStoppedError(e.message, { cause: e });
  if (e instanceof TransientError || e instanceof TerminalError) return e;
  if (e instanceof ReadRefused) return new TerminalError(e.message, { cause: e });
  return new TerminalError((e as Error).message, { cause: e });
}
