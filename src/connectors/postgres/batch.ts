import { count } from '../../util/plural.js';
import type { Change, Outcome, StepResult } from '../types.js';
import { type Query, quoteIdent, type Script } from './database.js';
import { BatchFailed, statementFailed } from './errors.js';
import { FACTS, OWNED, type RoleFacts, standing } from './observe.js';
import { absentRoles, type StepContext, untouchable } from './steps.js';

/**
 * Many accounts' changes in one transaction: the facts of every account read
 * in three statements, then the writes sent as one string of statements (one
 * round trip), the statements a person needs and no more: CREATE ROLE and
 * COMMENT once per new person, one GRANT per group role naming up to 100 of
 * the batch's accounts, one REVOKE per membership.
 *
 * An account iden may not touch fails here, alone, without a statement. A
 * write that fails (a role dropped by hand meanwhile, a name taken, a
 * membership another role granted) throws `BatchFailed`: the transaction is
 * rolled back whole and the step goes over its accounts one at a time, each
 * in a transaction of its own, so the failure stays with its account.
 */
/** One account's results: its changes' outcomes, or why they all failed. */
export type AccountResult = { outcomes: Outcome[] } | { error: string };

interface Read {
  facts: Map<string, RoleFacts>;
  /** `group\0member` for every membership of the accounts in the managed roles. */
  memberships: Set<string>;
}

/**
 * The accounts' facts, and their memberships in `roles` where they exist:
 * the names joined as a list (unnest) so each is found through the index on
 * role names, whatever the number of roles in the cluster.
 */
async function read(query: Query, accounts: string[], roles: string[]): Promise<Read> {
  const facts = await query<RoleFacts>(
    `SELECT ${FACTS} FROM unnest($1::text[]) AS a(name) JOIN pg_roles r ON r.rolname = a.name`,
    [accounts],
  );
  const existing = facts.map((f) => f.name);
  const members =
    existing.length === 0
      ? []
      : await query<{ grp: string; member: string }>(
          `SELECT g.rolname AS grp, m.rolname AS member
             FROM unnest($1::text[]) AS a(name) JOIN pg_roles m ON m.rolname = a.name
             JOIN pg_auth_members am ON am.member = m.oid JOIN pg_roles g ON g.oid = am.roleid
            WHERE g.rolname = ANY($2::text[])`,
          [existing, roles],
        );
  return {
    facts: new Map(facts.map((f) => [f.name, f])),
    memberships: new Set(members.map((m) => `${m.grp}\u0000${m.member}`)),
  };
}

const key = (role: string, account: string) => `${role}\u0000${account}`;

/** Grants to many accounts in one transaction; `groups` holds each account's changes. */
export function grantMany(context: StepContext, groups: Change[][]): Promise<Map<string, AccountResult>> {
  return context.inTransaction(
    `granting roles to ${count(groups.length, 'account')}`,
    async (query, script) => {
      const results = new Map<string, AccountResult>();
      const roles = [...new Set(groups.flat().map((c) => context.roleOf(c)))];
      const accounts = groups.map((g) => g[0]!.account);
      const absent = await absentRoles(query, roles);
      const { facts, memberships } = await read(query, accounts, roles);
      const statements: string[] = [];
      /** Per group role, the accounts it goes to: one GRANT names them all. */
      const grants = new Map<string, string[]>();
      for (const batch of groups) {
        const account = batch[0]!.account;
        const name = quoteIdent(account);
        if (context.managed.has(account)) {
          results.set(account, { error: `${account} is a group role this app manages, not a person` });
          continue;
        }
        const mine = [...new Set(batch.map((c) => context.roleOf(c)))];
        const missing = mine.filter((r) => absent.has(r));
        if (missing.length > 0) {
          results.set(account, {
            error: `group role ${missing.join(', ')} does not exist in the database; create it or set createRoles: true`,
          });
          continue;
        }
        const found = facts.get(account);
        const own: string[] = [];
        let reopened = false;
        if (!found) own.push(`CREATE ROLE ${name} LOGIN`, `COMMENT ON ROLE ${name} IS '${OWNED}'`);
        else {
          let is = standing(found, context.managed, context.adopt);
          if (is.kind === 'unowned' && context.adopt.has(account)) {
            own.push(`COMMENT ON ROLE ${name} IS '${OWNED}'`);
            is = { kind: 'owned' };
          }
          if (is.kind === 'untouchable') {
            results.set(account, { error: untouchable(account, is.why).message });
            continue;
          }
          if (is.kind === 'owned' && !found.canlogin) {
            own.push(`ALTER ROLE ${name} LOGIN`);
            reopened = true;
          }
        }
        const outcomes: Outcome[] = [];
        for (const change of batch) {
          const role = context.roleOf(change);
          if (memberships.has(key(role, account))) outcomes.push(reopened ? 'granted' : 'unchanged');
          else {
            grants.set(role, [...(grants.get(role) ?? []), name]);
            memberships.add(key(role, account));
            outcomes.push('granted');
          }
        }
        statements.push(...own);
        results.set(account, { outcomes });
      }
      for (const [role, names] of grants)
        for (let i = 0; i < names.length; i += GRANTEES)
          statements.push(`GRANT ${quoteIdent(role)} TO ${names.slice(i, i + GRANTEES).join(', ')}`);
      await send(script, statements);
      return results;
    },
  );
}

/** Revocations from many accounts in one transaction; logins iden owns shut when nothing on the cluster grants them anything. */
export function revokeMany(context: StepContext, groups: Change[][]): Promise<Map<string, AccountResult>> {
  return context.inTransaction(
    `revoking roles from ${count(groups.length, 'account')}`,
    async (query, script) => {
      const results = new Map<string, AccountResult>();
      const roles = [...new Set(groups.flat().map((c) => context.roleOf(c)))];
      const accounts = groups.map((g) => g[0]!.account);
      const { facts, memberships } = await read(query, accounts, roles);
      const statements: string[] = [];
      const revoked: [string, string][] = [];
      const mayShut: string[] = [];
      for (const batch of groups) {
        const account = batch[0]!.account;
        const found = facts.get(account);
        if (!found) {
          results.set(account, { outcomes: batch.map(() => 'unchanged') });
          continue;
        }
        let is = standing(found, context.managed, context.adopt);
        if (is.kind === 'unowned' && context.adopt.has(account)) {
          statements.push(`COMMENT ON ROLE ${quoteIdent(account)} IS '${OWNED}'`);
          is = { kind: 'owned' };
        }
        if (is.kind === 'untouchable') {
          results.set(account, { error: untouchable(account, is.why).message });
          continue;
        }
        const outcomes: Outcome[] = [];
        for (const change of batch) {
          const role = context.roleOf(change);
          if (!memberships.delete(key(role, account))) {
            outcomes.push('unchanged');
            continue;
          }
          statements.push(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(account)}`);
          revoked.push([role, account]);
          outcomes.push('revoked');
        }
        if (is.kind === 'owned' && found.canlogin) mayShut.push(account);
        results.set(account, { outcomes });
      }
      await send(script, statements);
      if (revoked.length === 0 && mayShut.length === 0) return results;
      // A membership another role granted survives REVOKE: that account is sorted out on its own.
      const after = await read(query, accounts, [...context.managed]);
      if (revoked.some(([role, account]) => after.memberships.has(key(role, account))))
        throw new BatchFailed();
      const left = new Set([...after.memberships].map((m) => m.slice(m.indexOf('\u0000') + 1)));
      // Login is cluster-wide: it goes only when no app on this cluster grants the person anything any more.
      await send(
        script,
        mayShut
          .filter((account) => !left.has(account) && !context.stillGranted?.(account))
          .map((account) => `ALTER ROLE ${quoteIdent(account)} NOLOGIN`),
      );
      return results;
    },
  );
}

/** Accounts one GRANT names at most. */
const GRANTEES = 100;

/** Statements a string holds, at most: a string is one round trip, read whole by the server before it runs. */
const PER_STRING = 2_000;

/** Sends the writes, a few round trips for the lot; a failure is the batch's, sorted out account by account. */
async function send(script: Script, statements: string[]): Promise<void> {
  for (let i = 0; i < statements.length; i += PER_STRING) {
    try {
      await script(statements.slice(i, i + PER_STRING).join(';\n'));
    } catch (e) {
      if (statementFailed(e)) throw new BatchFailed((e as Error).message, { cause: e });
      throw e;
    }
  }
}

/** Turns results by account into results by change. */
export function byChange(groups: Change[][], results: Map<string, AccountResult>): StepResult[] {
  return groups.flatMap((batch) => {
    const result = results.get(batch[0]!.account)!;
    return batch.map((change, i) =>
      'error' in result
        ? { change, outcome: 'failed' as const, error: result.error }
        : { change, outcome: result.outcomes[i]! },
    );
  });
}
