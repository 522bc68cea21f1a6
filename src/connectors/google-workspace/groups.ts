import { type Change, type Step, TerminalError, TransientError } from '../types.js';
import { describe, failure } from './errors.js';
import { groupOf, rank, roleOf } from './held.js';
import { all, noSuchUser, type OpContext, refuseOutsider } from './ops.js';
import { enc, ROLES, type Role } from './read.js';

const memberPath = (group: string, account: string) =>
  `admin/directory/v1/groups/${enc(group)}/members/${enc(account)}`;

function entitlementOf(ctx: OpContext, change: Change) {
  return ctx.entitlements.find((e) => e.id === change.entitlement)!;
}

/**
 * One person's grants in one group, as one request: added with the highest
 * role the changes give, or their role raised to it. Never lowers a role:
 * what someone already holds is not taken away by a grant.
 */
export function grantMembership(ctx: OpContext, account: string, group: string, changes: Change[]): Step {
  const target: Role = ROLES[Math.max(...changes.map((c) => rank(roleOf(entitlementOf(ctx, c)))))]!;
  const what = `adding ${account} to ${group} as ${target}`;
  let wrote = false;
  const members = () => {
    let map = ctx.state.groups.get(group);
    if (!map) {
      map = new Map();
      ctx.state.groups.set(group, map);
    }
    return map;
  };
  const setRole = async (email: string, role: Role) => {
    wrote = true;
    const answer = await ctx.client.call(ctx.directory, {
      method: 'PATCH',
      path: memberPath(group, account),
      body: { role },
    });
    if (answer.status === 404) {
      // Gone since it was read: read again on the next attempt, then added.
      members().delete(account.toLowerCase());
      throw new TransientError(`${what}: ${account} left ${group} meanwhile`);
    }
    if (answer.status !== 200) throw failure(answer, what, ctx.adminEmail);
    members().set(account.toLowerCase(), { email, role });
  };
  return {
    changes,
    run: async () => {
      refuseOutsider(ctx, account, what);
      // Sent in an attempt that then failed: what is found done now is this run's doing.
      const before = wrote;
      const current = members().get(account.toLowerCase());
      if (current && rank(current.role) >= rank(target))
        return all(changes, before ? 'granted' : 'unchanged');
      if (current) {
        await setRole(current.email, target);
        return all(changes, 'granted');
      }
      wrote = true;
      const answer = await ctx.client.call(ctx.directory, {
        method: 'POST',
        path: `admin/directory/v1/groups/${enc(group)}/members`,
        body: { email: account, role: target },
      });
      if (answer.status === 200) {
        const email = typeof answer.body.email === 'string' ? answer.body.email : account;
        members().set(account.toLowerCase(), { email, role: target });
        if (email.toLowerCase() !== account.toLowerCase())
          ctx.notice(
            `${account} is another address (an alias) of ${email}, whom Google added to ${group}: give accounts.${ctx.app}: ${email} in grants/_people.yaml, or the next plan adds ${account} again`,
          );
        return all(changes, 'granted');
      }
      if (answer.status === 409) {
        const raised = await alreadyMember();
        return all(changes, raised || before ? 'granted' : 'unchanged');
      }
      if (answer.status === 404) {
        if (/groupKey/i.test(describe(answer)))
          throw new TerminalError(`${what}: ${group} is not a group (${describe(answer)})`);
        throw noSuchUser(ctx, account, answer, what);
      }
      throw failure(answer, what, ctx.adminEmail);
    },
  };

  /** Google says they are a member already: under this address (added meanwhile) or another one of theirs. Whether their role was raised. */
  async function alreadyMember(): Promise<boolean> {
    const answer = await ctx.client.call(ctx.directory, { method: 'GET', path: memberPath(group, account) });
    if (answer.status !== 200) throw failure(answer, what, ctx.adminEmail);
    const email = String(answer.body.email ?? account);
    if (email.toLowerCase() !== account.toLowerCase())
      throw new TerminalError(
        `${what}: ${account} is another address (an alias) of ${email}, who is a member already: give accounts.${ctx.app}: ${email} in grants/_people.yaml`,
      );
    const role = String(answer.body.role ?? 'MEMBER') as Role;
    members().set(account.toLowerCase(), { email, role });
    if (rank(role) >= rank(target)) return false;
    await setRole(email, target);
    return true;
  }
}

/**
 * One person's removals in one group, as one request: their role lowered to
 * the highest one of the group their grants still give, or, when they give
 * none, the membership deleted.
 */
export function revokeMembership(ctx: OpContext, account: string, group: string, changes: Change[]): Step {
  let wrote = false;
  return {
    changes,
    run: async () => {
      const before = wrote;
      const done = before ? 'revoked' : 'unchanged';
      const members = ctx.state.groups.get(group);
      const current = members?.get(account.toLowerCase());
      if (!members || !current) return all(changes, done);
      const granted = ctx.grantedTo(account);
      const revoked = new Set(changes.map((c) => c.entitlement));
      const keep = ctx.entitlements.filter(
        (e) => groupOf(e) === group && !revoked.has(e.id) && granted.has(`e:${e.id}`),
      );
      const keepRank = Math.max(-1, ...keep.map((e) => rank(roleOf(e))));
      if (keepRank >= rank(current.role)) return all(changes, done);
      wrote = true;
      const role = keepRank >= 0 ? ROLES[keepRank]! : undefined;
      const what = role ? `making ${account} ${role} of ${group}` : `removing ${account} from ${group}`;
      const answer = await ctx.client.call(
        ctx.directory,
        role
          ? { method: 'PATCH', path: memberPath(group, account), body: { role } }
          : { method: 'DELETE', path: memberPath(group, account) },
      );
      if (answer.status === 404) {
        // Not a member (any more): nothing left to take away.
        members.delete(account.toLowerCase());
        return all(changes, done);
      }
      if (answer.status !== 200 && answer.status !== 204) throw failure(answer, what, ctx.adminEmail);
      if (role) members.set(account.toLowerCase(), { email: current.email, role });
      else members.delete(account.toLowerCase());
      return all(changes, 'revoked');
    },
  };
}
