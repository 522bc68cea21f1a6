import type { Registry } from '../connectors/catalog.js';
import { accountFor } from '../model/accounts.js';
import type { Clock } from '../model/clock.js';
import type { AccessRepo } from '../model/repo.js';

/**
 * When each grantee last used an app, for `iden review start
 * --not-used-since`: asked of the connectors whose service reports it
 * (ConnectorMeta.usage; Okta's lastLogin), by observing the app as plan
 * does, read-only. Anything that cannot tell (no such connector, no
 * credentials, an app that cannot be read, an account it did not see) is
 * "usage not known", and such an item stays in the campaign: the safe default.
 */

export type Use = { known: false; why: string } | { known: true; last: number | null };

export interface AppUsage {
  app: string;
  /** Where the usage comes from, when the app could say. */
  source?: string;
  /** Why it could not, otherwise. */
  why?: string;
  use(user: string): Use;
}

export async function readUsage(
  repo: AccessRepo,
  apps: readonly string[],
  options: { env: NodeJS.ProcessEnv; clock: Clock; registry: Registry },
): Promise<Map<string, AppUsage>> {
  const people = new Map((repo.people?.value?.people ?? []).map((p) => [p.id, p]));
  const out = new Map<string, AppUsage>();
  for (const id of apps) {
    const file = repo.apps.get(id)?.value;
    const connector = file ? options.registry[file.connector.type] : undefined;
    const unknown = (why: string): AppUsage => ({ app: id, why, use: () => ({ known: false, why }) });
    if (!file || !connector) {
      out.set(id, unknown(`grants/${id}/_app.yaml does not validate`));
      continue;
    }
    if (!connector.usage) {
      out.set(id, unknown(`the ${connector.type} connector does not report when access was last used`));
      continue;
    }
    const missing = connector.missingCredentials({ id, file }, options.env);
    if (missing) {
      out.set(id, unknown(`cannot ask ${id} (${missing})`));
      continue;
    }
    let last: ReadonlyMap<string, string | null> | undefined;
    try {
      const session = await connector.open(
        { id, file },
        { repoRoot: repo.root, env: options.env, lockTimeoutMs: 30_000, clock: options.clock },
      );
      try {
        await session.observe();
        last = await session.lastUsed?.();
      } finally {
        await session.close();
      }
    } catch (e) {
      out.set(id, unknown(`cannot read ${id}: ${(e as Error).message.split('\n')[0]}`));
      continue;
    }
    if (!last) {
      out.set(id, unknown(`${id} did not say when its accounts were last used`));
      continue;
    }
    const fold = (a: string) => (connector.caseInsensitiveAccounts ? a.toLowerCase() : a);
    const byAccount = new Map([...last].map(([account, at]) => [fold(account), at]));
    out.set(id, {
      app: id,
      source: connector.usage,
      use(user) {
        const person = people.get(user);
        const account = person && accountFor(person, id, connector.accountDefault);
        if (!account) return { known: false, why: `${user} has no account in ${id}` };
        const at = byAccount.get(fold(account));
        if (at === undefined) return { known: false, why: `${id} did not report ${account}` };
        const ms = at === null ? null : Date.parse(at);
        return ms !== null && Number.isNaN(ms)
          ? { known: false, why: `${id} reported ${account}'s last use as ${at}` }
          : { known: true, last: ms };
      },
    });
  }
  return out;
}

/** What the pull request says of an item's use. */
export function usedText(use: Use | undefined): string {
  if (!use?.known) return 'usage not known';
  return use.last === null ? 'never' : `last ${new Date(use.last).toISOString().replace('.000Z', 'Z')}`;
}
