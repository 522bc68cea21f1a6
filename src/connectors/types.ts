import type { Change, Held, Outcome, Unmanaged } from '../model/access.js';
import type { AccountRule } from '../model/accounts.js';
import type { Clock } from '../model/clock.js';
import type { AppFile, Person } from '../model/repo.js';

export type { Assignment, Change, ChangeReason, Held, Outcome } from '../model/access.js';

export interface AppSpec {
  id: string;
  file: AppFile;
}

export interface ConnectorContext {
  /** The access repository's root, for connectors that keep local state (the embedded database). */
  repoRoot: string;
  env: NodeJS.ProcessEnv;
  /** How long to wait for another run's hold on the app (a database's advisory lock) before giving up. */
  lockTimeoutMs: number;
  /** How long one embedded-database statement may take before it is taken to have stopped. */
  embeddedTimeoutMs?: number;
  onNotice?: (text: string) => void;
  /** A slow step begins (creating an embedded database): a progress line on a terminal, nothing elsewhere. */
  onProgress?: (text: string) => void;
  /**
   * Accounts the app's `_app.yaml` lets iden take over (`adopt:`): only these,
   * of the accounts iden did not create, may it mark as its own.
   */
  adopt?: ReadonlySet<string>;
  /**
   * The process will run again soon (iden serve): keep what is slow to open
   * (an embedded database's thread) between runs, through connectors/warm.ts.
   */
  keepWarm?: boolean;
  /** Where the connector reads the time (rate-limit resets, polling deadlines); absent: the system clock. */
  clock?: Clock;
  /**
   * Whether some app on the same target (the same PostgreSQL cluster, for
   * cluster-wide logins) still grants the account anything at this run's
   * instant: one decision for everything the apps share.
   */
  stillGranted?: (account: string) => boolean;
  /**
   * What the repository gives the account in this app at the run's instant,
   * as targets (`e:<entitlement>`, `l:<tier>`): lets a step that takes one
   * thing away keep what the person still holds, such as a lower role in the
   * same group that their higher role already gave them.
   */
  grantedTo?: (account: string) => ReadonlySet<string>;
  /** The directory (_people.yaml), by person id: names and emails for the accounts a connector creates. */
  people?: ReadonlyMap<string, Person>;
  /**
   * `iden import`: observe also accounts iden does not own that hold managed
   * access, marked `unowned`, so the import can say how to hand them over.
   * Nothing is changed either way.
   */
  importing?: boolean;
}

/** An open connection to one app. */
export interface Session {
  /** How many steps may run at once against this app. */
  readonly concurrency: number;
  /** Every assignment of the app's managed scope (the entitlements and tiers _app.yaml declares). Never partial: it throws instead. */
  observe(): Promise<Held[]>;
  /** What observe found worth telling people (a failed invitation), printed with the plan. */
  readonly notices?: readonly string[];
  /** What observe found held by accounts iden leaves alone: listed by status, access --observed and the plan. */
  readonly unmanaged?: readonly Unmanaged[];
  /**
   * When each account last used the service, where the service says (an
   * Okta user's lastLogin): account to an ISO 8601 instant, or null for
   * never; an account left out is not known. Called after observe, only by
   * `iden review start --not-used-since` (it may ask the service more, and
   * need a permission plan and apply do not). Absent: the connector cannot
   * tell (ConnectorMeta.usage is unset).
   */
  lastUsed?(): Promise<ReadonlyMap<string, string | null>>;
  /**
   * Groups changes into steps the connector can run at once (a batch, a
   * transaction per account). Every step is idempotent: granting what exists
   * and revoking what is gone succeed.
   */
  steps(changes: Change[]): Step[];
  /**
   * steps() takes the app's grants and removals together, so one write can
   * carry both (one LDAP modify per group and run). Apply then runs the steps
   * one at a time, a person's grants before their removals where it can, and
   * takes out of later steps the removals of anyone whose grant failed
   * (Step.without), as it does between its grant and removal phases.
   */
  readonly grantsWithRemovals?: boolean;
  /**
   * What the app shares with others, as the app itself names it once open
   * (a PostgreSQL cluster's system identifier, whatever the URL said):
   * apps with the same target are one, as ConnectorMeta.target says before
   * anything is open.
   */
  readonly targetKey?: string;
  /** Frees what the session holds between observing and applying (an embedded database's thread); it comes back when needed. */
  suspend?(): Promise<void>;
  close(): Promise<void>;
}

/** What became of one change: its outcome, keyed by the change itself, and why it failed. */
export interface StepResult {
  change: Change;
  outcome: Outcome;
  error?: string;
}

export interface Step {
  changes: Change[];
  /**
   * One result for each of `changes`, each naming its change (in any order).
   * Throws TransientError to be retried, TerminalError to fail the step's
   * changes, AppStoppedError to stop the app's remaining changes too.
   */
  run(): Promise<StepResult[]>;
  /**
   * Results of changes the step made final before it threw (a batch that
   * committed some of its accounts and has others to try again): apply keeps
   * these when the step's retries give up, and fails only the rest.
   */
  settled?(): StepResult[];
  /** The same step without some of its removals; sessions with grantsWithRemovals give it. */
  without?(removals: readonly Change[]): Step;
}

/** Results of a step that handled its changes one after another. */
export function inOrder(changes: readonly Change[], outcomes: readonly Outcome[]): StepResult[] {
  return changes.map((change, i) => ({ change, outcome: outcomes[i] ?? 'failed' }));
}

/**
 * What iden knows of a connector without loading its drivers: its folder's
 * `meta.ts`. Validation and pull-request checks read only this; the code
 * that talks to the app (`load`) is imported when an app of the type is
 * opened.
 */
export interface ConnectorMeta {
  readonly type: string;
  /** How a person's account is named when _people.yaml gives none for the app; undefined: it must be given. */
  readonly accountDefault: AccountRule | undefined;
  /** Whether the app compares account names without regard to letter case. */
  readonly caseInsensitiveAccounts: boolean;
  /** The JSON Schema of the app's connector block and of each entitlement's and tier's mapping ($defs connector, entitlement, license). */
  readonly schema: { $id: string };
  /** What is missing from the environment to reach the app, or undefined when nothing is. */
  missingCredentials(app: AppSpec, env: NodeJS.ProcessEnv): string | undefined;
  /** What the service reports as an account's last use, when its sessions give Session.lastUsed (the Okta user's lastLogin). */
  readonly usage?: string;
  /** Checks of the repository beyond the schema that only this kind of app needs (name limits, say). */
  readonly rules?: readonly ConnectorRule[];
  /** What several apps of this type share, such as a database cluster's logins: apps with the same key are one target. */
  target?(app: AppSpec, env: NodeJS.ProcessEnv): string | undefined;
  /**
   * What the app itself says its target is (a cluster's system identifier),
   * asked of apps a run does not open, as Session.targetKey says it of
   * those it does: a short connection, nothing locked or changed.
   */
  identify?(app: AppSpec, env: NodeJS.ProcessEnv): Promise<string | undefined>;
  /** The code that talks to the app. */
  load(): Promise<{ open(app: AppSpec, context: ConnectorContext): Promise<Session> }>;
}

/** A connector's own check of one of its apps, with the accounts its grants resolve to. */
export type ConnectorRule = (app: RuleApp) => RuleFinding[];

export interface RuleApp {
  id: string;
  file: string;
  /** The app's file, as parsed (schema-valid or not). */
  raw: Record<string, unknown>;
  /** Each grant of the app with its file and the account its person has here. */
  grants: { file: string; user: string; account: string | undefined }[];
}

/** What a connector rule found: a code and message, at a path of the file named. */
export interface RuleFinding {
  file: string;
  code: 'name-too-long' | 'account-is-role' | 'unsafe-role' | 'invalid-field' | 'missing-account';
  message: string;
  path: (string | number)[];
}

export interface Connector extends ConnectorMeta {
  open(app: AppSpec, context: ConnectorContext): Promise<Session>;
}

/** A failure worth retrying: a timeout, a 429 or 503, a dropped connection. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failure that retrying will not fix: that change fails, the rest go on. */
export class TerminalError extends Error {
  override readonly name: string = 'TerminalError';
}

/** The app can take no more changes this run (its database stopped, its disk is full): the rest of its changes are not tried. */
export class AppStoppedError extends TerminalError {
  override readonly name = 'AppStoppedError';
}

/** An app that cannot be read: it is skipped whole, never taken as empty. */
export class ObserveError extends Error {
  override readonly name = 'ObserveError';
}

/**
 * The app's settings as its connector's schema types them. Only apps whose
 * connector schema passed are ever opened, so the narrowing holds.
 */
export function typed<C, E, L>(app: AppSpec): { connector: C; entitlements: E[]; licenses: L[] } {
  return {
    connector: app.file.connector as unknown as C,
    entitlements: app.file.entitlements as unknown as E[],
    licenses: (app.file.licenses ?? []) as unknown as L[],
  };
}
