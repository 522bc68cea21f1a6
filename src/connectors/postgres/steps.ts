import type { Change, Outcome } from '../types.js';
import { TerminalError } from '../types.js';
import { type Query, quoteIdent, type Script } from './database.js';
import { OWNED, roleFacts, type Standing, standing } from './observe.js';

/** What the steps need of the session: the mapping, the adoption list, and a transaction that checks the lock. */
export interface StepContext {
  /** Every group role the app maps (retired ones included): none of them is ever a person. */
  managed: ReadonlySet<string>;
  roleOf(change: Change): string;
  adopt: ReadonlySet<string>;
  stillGranted?: (account: string) => boolean;
  inTransaction<T>(what: string, fn: (query: Query, script: Script) => Promise<T>): Promise<T>;
}

/** A role iden may not grant to or revoke from, and why; no advice that would hand a group or an administrator over. */
export function untouchable(account: string, why: string): TerminalError {
  return new TerminalError(
    `the role ${account} is ${why}: iden never grants to it or revokes from it${
      why.includes('cannot log in')
        ? `. If it is this person's account, shut by hand, list it in the app's adopt: (a reviewed change) and iden takes it over`
        : ''
    }`,
  );
}

/**
 * A login role made by hand becomes iden's only when `_app.yaml`'s `adopt:`
 * lists it (a reviewed change): then it is marked, and from then on its
 * login is iden's too.
 */
async function adoptIfListed(context: StepContext, query: Query, account: string, found: Standing) {
  if (found.kind !== 'unowned' || !context.adopt.has(account)) return found;
  await query(`COMMENT ON ROLE ${quoteIdent(account)} IS '${OWNED}'`);
  return { kind: 'owned' } as const;
}

/** The group roles of `roles` the database does not have. */
export async function absentRoles(query: Query, roles: string[]): Promise<Set<string>> {
  const rows = await query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
    [roles],
  );
  const existing = new Set(rows.map((r) => r.rolname));
  return new Set(roles.filter((r) => !existing.has(r)));
}

async function isMember(query: Query, role: string, account: string): Promise<boolean> {
  const rows = await query(
    `SELECT 1 FROM pg_auth_members am
       JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
      WHERE g.rolname = $1 AND m.rolname = $2`,
    [role, account],
  );
  return rows.length > 0;
}

/** All of one account's grants, in one transaction: its account created (and marked iden's) if missing, let back in if iden's and shut. */
export function grant(context: StepContext, batch: Change[]): Promise<Outcome[]> {
  const account = batch[0]!.account;
  return context.inTransaction(`granting roles to ${account}`, async (query) => {
    if (context.managed.has(account))
      throw new TerminalError(`${account} is a group role this app manages, not a person`);
    const roles = [...new Set(batch.map((c) => context.roleOf(c)))];
    const absent = [...(await absentRoles(query, roles))];
    if (absent.length > 0) {
      throw new TerminalError(
        `group role ${absent.join(', ')} does not exist in the database; create it or set createRoles: true`,
      );
    }
    const facts = await roleFacts(query, account);
    let reopened = false;
    if (!facts) {
      await query(`CREATE ROLE ${quoteIdent(account)} LOGIN`);
      await query(`COMMENT ON ROLE ${quoteIdent(account)} IS '${OWNED}'`);
    } else {
      const found = await adoptIfListed(
        context,
        query,
        account,
        standing(facts, context.managed, context.adopt),
      );
      if (found.kind === 'untouchable') throw untouchable(account, found.why);
      // A login made by hand is the person's own business: iden gives it roles, never opens or shuts it.
      if (found.kind === 'owned' && !facts.canlogin) {
        await query(`ALTER ROLE ${quoteIdent(account)} LOGIN`);
        reopened = true;
      }
    }
    const outcomes: Outcome[] = [];
    for (const change of batch) {
      const role = context.roleOf(change);
      if (await isMember(query, role, account)) outcomes.push(reopened ? 'granted' : 'unchanged');
      else {
        await query(`GRANT ${quoteIdent(role)} TO ${quoteIdent(account)}`);
        outcomes.push('granted');
      }
    }
    return outcomes;
  });
}

/** All of one account's revocations, in one transaction; an account iden owns is shut when no app on the cluster grants it anything. */
export function revoke(context: StepContext, batch: Change[]): Promise<Outcome[]> {
  const account = batch[0]!.account;
  return context.inTransaction(`revoking roles from ${account}`, async (query) => {
    const facts = await roleFacts(query, account);
    if (!facts) return batch.map(() => 'unchanged');
    const found = await adoptIfListed(
      context,
      query,
      account,
      standing(facts, context.managed, context.adopt),
    );
    if (found.kind === 'untouchable') throw untouchable(account, found.why);
    const outcomes: Outcome[] = [];
    for (const change of batch) {
      const role = context.roleOf(change);
      if (!(await isMember(query, role, account))) {
        outcomes.push('unchanged');
        continue;
      }
      await query(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(account)}`);
      if (await isMember(query, role, account)) {
        throw new TerminalError(
          `${account} is still a member of ${role} after REVOKE: the membership was granted by another role, which must revoke it`,
        );
      }
      outcomes.push('revoked');
    }
    if (found.kind !== 'owned' || !facts.canlogin) return outcomes;
    // Login is cluster-wide: it goes only when no app on this cluster grants the person anything any more.
    const [left] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_auth_members am
         JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE m.rolname = $1 AND g.rolname = ANY($2::text[])`,
      [account, [...context.managed]],
    );
    if (left?.n === 0 && !context.stillGranted?.(account))
      await query(`ALTER ROLE ${quoteIdent(account)} NOLOGIN`);
    return outcomes;
  });
}
