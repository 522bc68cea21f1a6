import { type Change, type Outcome, type StepResult, TerminalError } from '../types.js';
import { describe } from './errors.js';
import type { State } from './held.js';
import type { GoogleWorkspaceEntitlement, GoogleWorkspaceLicense } from './settings.generated.js';
import type { Answer, Api, GoogleClient } from './transport.js';

/** What every step of a session shares: the client, what is known, and how to word a failure. */
export interface OpContext {
  app: string;
  client: GoogleClient;
  directory: Api;
  licensing: Api;
  state: State;
  adminEmail: string;
  /** The Workspace's own domains, lower-case. */
  domains: readonly string[];
  entitlements: readonly GoogleWorkspaceEntitlement[];
  licenses: readonly GoogleWorkspaceLicense[];
  /** What the repository still gives an account in this app (`e:<id>`, `l:<id>`). */
  grantedTo: (account: string) => ReadonlySet<string>;
  /** Tiers moved away from in this run (`<account>\u0000<tier>`): their removal is already done. */
  moved: Set<string>;
  /** Said while applying, once. */
  notice: (text: string) => void;
  /** A client whose token carries only the users' read-only scope: asked for last sign-ins, by review start alone. */
  users?: GoogleClient;
}

/** Every change of a step with one outcome. */
export function all(changes: readonly Change[], outcome: Outcome): StepResult[] {
  return changes.map((change) => ({ change, outcome }));
}

/**
 * An address outside the Workspace's domains is refused before any call:
 * Google would add it to a group as an outside member, and iden gives
 * access only to the IdP's own users.
 */
export function refuseOutsider(ctx: OpContext, account: string, what: string): void {
  const domain = account.includes('@') ? account.slice(account.lastIndexOf('@') + 1).toLowerCase() : '';
  if (ctx.domains.includes(domain)) return;
  throw new TerminalError(
    `${what}: ${account} is not an address of this Google Workspace (${ctx.domains.join(', ')}); iden gives access only to its users: give the person's Workspace address as accounts.${ctx.app} in grants/_people.yaml`,
  );
}

/** Google does not know the user: said as such, naming the account and the app. */
export function noSuchUser(ctx: OpContext, account: string, answer: Answer, what: string): TerminalError {
  return new TerminalError(
    `${what}: ${account} is not a user of the Google Workspace of app ${ctx.app} (${describe(answer)}); iden neither creates nor deletes users: create them through your IdP, or correct accounts.${ctx.app} in grants/_people.yaml`,
  );
}
