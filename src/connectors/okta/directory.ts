import { TerminalError } from '../types.js';
import type { OktaClient } from './client.js';
import { OktaError } from './errors.js';
import { type OktaUser, user, usersByLogin } from './read.js';

/**
 * Finds the Okta users that grants name, by login. Observe already knows
 * everyone who holds something; the rest are looked up together the first
 * time a step needs one of them: fifty logins to a search, then one
 * (consistent) lookup for each login the search did not return, since
 * search lags behind a new user and folds case differently. Users are never
 * created: one that is not there fails its changes, naming the login.
 */
export class Directory {
  private readonly wanted = new Set<string>();
  private readonly missing = new Map<string, string>();
  private batch: Promise<void> | undefined;

  constructor(
    private readonly client: OktaClient,
    /** Users by lowercase login (observe's, shared). */
    private readonly users: Map<string, OktaUser>,
    /** Names the org and how to fix a missing user, for the error. */
    private readonly missingHint: (login: string) => string,
  ) {}

  /** Logins the coming steps will need: looked up in one go when the first is asked for. */
  want(logins: Iterable<string>): void {
    for (const login of logins) {
      const key = login.toLowerCase();
      if (!this.users.has(key) && !this.missing.has(key)) this.wanted.add(key);
    }
  }

  async find(login: string): Promise<OktaUser> {
    const key = login.toLowerCase();
    for (let round = 0; round < 3; round++) {
      const found = this.users.get(key);
      if (found) return found;
      const missing = this.missing.get(key);
      if (missing !== undefined) throw new TerminalError(missing);
      this.wanted.add(key);
      this.batch ??= this.lookUp([...this.wanted]).finally(() => {
        this.batch = undefined;
      });
      await this.batch;
    }
    throw new TerminalError(this.missingHint(login));
  }

  private async lookUp(logins: string[]): Promise<void> {
    for (const u of await usersByLogin(this.client, logins)) this.remember(u);
    for (const login of logins) {
      if (this.users.has(login)) {
        this.wanted.delete(login);
        continue;
      }
      try {
        this.remember(await user(this.client, login, true), login);
      } catch (e) {
        if (!(e instanceof OktaError && e.status === 404)) throw e;
        this.missing.set(login, this.missingHint(login));
      }
      this.wanted.delete(login);
    }
  }

  private remember(u: OktaUser, asked?: string): void {
    const login = u.profile?.login?.toLowerCase();
    if (login) {
      this.users.set(login, u);
      this.wanted.delete(login);
    }
    // A short name or a login in another case finds the user too: keep it under what was asked.
    if (asked) this.users.set(asked, u);
  }
}
