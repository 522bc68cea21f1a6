import { type Change, type Step, TerminalError, TransientError } from '../types.js';
import { describe, failure } from './errors.js';
import { all, noSuchUser, type OpContext, refuseOutsider } from './ops.js';
import { enc } from './read.js';
import type { GoogleWorkspaceLicense } from './settings.generated.js';

const userPath = (tier: GoogleWorkspaceLicense, account: string) =>
  `apps/licensing/v1/product/${enc(tier.productId)}/sku/${enc(tier.skuId)}/user/${enc(account)}`;

function holders(ctx: OpContext, tier: GoogleWorkspaceLicense): Map<string, string> {
  let map = ctx.state.tiers.get(tier.id);
  if (!map) {
    map = new Map();
    ctx.state.tiers.set(tier.id, map);
  }
  return map;
}

/**
 * A person's new tier, as one request: moved from the managed tier they
 * hold in the same product (Google's reassignment, one SKU for another),
 * else assigned.
 */
export function grantLicence(ctx: OpContext, change: Change): Step {
  const account = change.account;
  const lower = account.toLowerCase();
  const tier = ctx.licenses.find((l) => l.id === change.license)!;
  let wrote = false;
  return {
    changes: [change],
    run: async () => {
      const before = wrote;
      const from = ctx.licenses.find(
        (l) => l.id !== tier.id && l.productId === tier.productId && holders(ctx, l).has(lower),
      );
      const what = from
        ? `moving ${account} from ${from.productId}/${from.skuId} to ${tier.skuId}`
        : `assigning ${tier.productId}/${tier.skuId} to ${account}`;
      refuseOutsider(ctx, account, what);
      if (holders(ctx, tier).has(lower)) return all([change], before ? 'granted' : 'unchanged');
      wrote = true;
      if (from) {
        const answer = await ctx.client.call(ctx.licensing, {
          method: 'PATCH',
          path: userPath(from, account),
          body: { skuId: tier.skuId },
        });
        if (answer.status === 404) {
          // No longer holds it: assigned afresh on the next attempt.
          holders(ctx, from).delete(lower);
          throw new TransientError(`${what}: ${account} no longer holds ${from.skuId}`);
        }
        if (answer.status !== 200) throw refusal(ctx, account, answer, what);
        holders(ctx, from).delete(lower);
        ctx.moved.add(`${lower}\u0000${from.id}`);
        holders(ctx, tier).set(lower, account);
        return all([change], 'granted');
      }
      const answer = await ctx.client.call(ctx.licensing, {
        method: 'POST',
        path: `apps/licensing/v1/product/${enc(tier.productId)}/sku/${enc(tier.skuId)}/user`,
        body: { userId: account },
      });
      if (answer.status === 409) {
        holders(ctx, tier).set(lower, account);
        return all([change], before ? 'granted' : 'unchanged');
      }
      if (answer.status !== 200) throw refusal(ctx, account, answer, what);
      holders(ctx, tier).set(lower, typeof answer.body.userId === 'string' ? answer.body.userId : account);
      return all([change], 'granted');
    },
  };
}

/** A person's tier taken away, unless this run already moved them off it. */
export function revokeLicence(ctx: OpContext, change: Change): Step {
  const account = change.account;
  const lower = account.toLowerCase();
  const tier = ctx.licenses.find((l) => l.id === change.license)!;
  let wrote = false;
  return {
    changes: [change],
    run: async () => {
      if (ctx.moved.has(`${lower}\u0000${tier.id}`)) return all([change], 'revoked');
      const done = wrote ? 'revoked' : 'unchanged';
      if (!holders(ctx, tier).has(lower)) return all([change], done);
      wrote = true;
      const what = `taking ${tier.productId}/${tier.skuId} from ${account}`;
      const answer = await ctx.client.call(ctx.licensing, {
        method: 'DELETE',
        path: userPath(tier, account),
      });
      if (answer.status === 404) {
        holders(ctx, tier).delete(lower);
        return all([change], done);
      }
      if (answer.status !== 200 && answer.status !== 204) throw failure(answer, what, ctx.adminEmail);
      holders(ctx, tier).delete(lower);
      return all([change], 'revoked');
    },
  };
}

/** A refused assignment: no such user, or a condition Google names (another licence of the product, no licence free). */
function refusal(
  ctx: OpContext,
  account: string,
  answer: Parameters<typeof describe>[0],
  what: string,
): Error {
  const said = describe(answer);
  if ((answer.status === 404 || answer.status === 400) && /user/i.test(said))
    return noSuchUser(ctx, account, answer, what);
  if (answer.status === 412 || answer.status === 400)
    return new TerminalError(
      `${what}: ${said}; the user may hold another licence of the product that this app does not manage, or no licence of the SKU is free`,
    );
  return failure(answer, what, ctx.adminEmail);
}
