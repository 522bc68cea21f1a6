import { groupBy } from '../../util/group-by.js';
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
import type { Directory } from './client.js';
import { type Config, changeKey, type Mapping, mappingKey } from './config.js';
import { describe, passing, ReferralError, UnreachableError } from './errors.js';
import { type Observed, observeDirectory } from './observe.js';
import { GroupError } from './read.js';
import { writeGroup } from './write.js';

/**
 * Membership of the directory groups an app's entitlements (and tiers) name.
 * People's entries are found, never created or deleted; groups iden does not
 * map are never read or written. Each group's changes of a run, adds and
 * removals together, are one modify: apply hands them over together
 * (grantsWithRemovals) and takes out the removals of anyone whose grant
 * failed earlier in the run.
 */
export class LdapSession implements Session {
  /** One connection, one step at a time: each group's write sees the memberships the earlier ones left. */
  readonly concurrency = 1;
  readonly grantsWithRemovals = true;
  private observed: Observed | undefined;
  private readonly told = new Set<string>();

  constructor(
    private readonly directory: Directory,
    private readonly config: Config,
    private readonly app: string,
    private readonly mappings: Mapping[],
    private readonly known: ReadonlySet<string>,
    private readonly context: ConnectorContext,
  ) {}

  get requests(): number {
    return this.directory.requests;
  }

  /** Said once, when it happens: while observing (with the plan, or an import) or while applying. */
  private notice = (text: string) => {
    if (this.told.has(text)) return;
    this.told.add(text);
    this.context.onNotice?.(text);
  };

  async observe(): Promise<Held[]> {
    try {
      const observed = await observeDirectory(
        this.directory,
        this.config,
        this.mappings,
        this.known,
        this.context.importing === true,
      );
      for (const text of observed.notices) this.notice(text);
      this.observed = observed;
      return observed.held;
    } catch (e) {
      await this.directory.close();
      if (e instanceof UnreachableError) {
        if (e.refused) throw new ObserveError(`cannot read ${this.config.url}: ${e.message}`, { cause: e });
        throw new TransientError(`cannot reach ${this.config.url}: ${e.message}`, undefined, { cause: e });
      }
      if (e instanceof GroupError || e instanceof ReferralError)
        throw new ObserveError(`cannot read ${this.config.url}: ${e.message}`, { cause: e });
      if (passing(e))
        throw new TransientError(`reading ${this.config.url}: ${describe(e)}`, undefined, { cause: e });
      throw new ObserveError(`cannot read ${this.config.url}: ${describe(e)}`, { cause: e });
    }
  }

  /** One step per group: every add and removal of the run for it, in one modify. */
  steps(changes: Change[]): Step[] {
    return [...groupBy(changes, changeKey).values()].map((batch) => this.step(batch));
  }

  private step(batch: Change[]): Step {
    return {
      changes: batch,
      run: () => this.run(batch),
      without: (removals) => this.step(batch.filter((c) => !removals.includes(c))),
    };
  }

  private async run(batch: Change[]): Promise<StepResult[]> {
    if (batch.length === 0) return [];
    const observed = this.observed;
    const key = changeKey(batch[0]!);
    const group = observed?.groups.get(key);
    if (!observed || !group) {
      // A retired mapping whose group has gone (or is mapped again) holds nobody: there is nothing to take away.
      if (observed && this.mappings.some((m) => mappingKey(m) === key && m.retired))
        return batch.map((change) => ({ change, outcome: 'unchanged' }));
      throw new TerminalError(
        `${key.slice(2)} was not read from ${this.config.url}: nothing is changed in it`,
      );
    }
    try {
      return await writeGroup(
        {
          directory: this.directory,
          config: this.config,
          app: this.app,
          groups: observed.groups,
          people: observed.people,
          stillGranted: this.context.stillGranted ?? (() => true),
          notice: this.notice,
        },
        group,
        batch,
      );
    } catch (e) {
      if (e instanceof UnreachableError)
        throw new AppStoppedError(
          `${e.message}: the directory cannot be reached, so ${this.app}'s other changes are not tried`,
          { cause: e },
        );
      if (e instanceof TransientError || e instanceof TerminalError) throw e;
      if (passing(e))
        throw new TransientError(`changing the members of ${group.dn}: ${describe(e)}`, undefined, {
          cause: e,
        });
      throw new TerminalError(`changing the members of ${group.dn}: ${describe(e)}`, { cause: e });
    }
  }

  close(): Promise<void> {
    return this.directory.close();
  }
}
