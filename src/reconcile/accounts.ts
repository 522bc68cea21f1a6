// Which person an account in an app is: the account the person names for the app
// (`accounts.<app>`), else the one the connector derives (their id, email or GitHub
// login), compared as the app compares them; where two people share one, the later
// in _people.yaml. The derived accounts come from the run's one index (AccountWays);
// an app adds only the accounts it is named by.
import { type AccountRule, AccountWays } from '../model/accounts.js';
import type { Person } from '../model/repo.js';

/** Account (as the app compares them) to person id. */
export type AccountIndex = Pick<ReadonlyMap<string, string>, 'get'>;

/** The people of one app by account, as a map made over every person in order (the later wins) would give. */
export function accountsOf(
  app: string,
  rule: AccountRule | undefined,
  fold: boolean,
  people: readonly Person[],
  ways: AccountWays = new AccountWays(people),
): AccountIndex {
  const norm = (account: string) => (fold ? account.toLowerCase() : account);
  const derived = ways.holders(rule, fold);
  // The people who name their own account here (an empty one: none), the last of each account winning.
  const named = new Map<string, number>();
  const naming = new Set(ways.namingIn(app));
  for (const i of naming) {
    const account = people[i]!.accounts?.[app];
    if (account) named.set(norm(account), i);
  }
  return {
    get(account: string): string | undefined {
      // An empty account is no account (as a map of every person's would have none).
      if (account === '') return undefined;
      let at = named.get(account) ?? -1;
      const list = derived.get(account);
      if (list)
        for (let j = list.length - 1; j >= 0 && list[j]! > at; j--)
          if (!naming.has(list[j]!)) {
            at = list[j]!;
            break;
          }
      return at < 0 ? undefined : people[at]!.id;
    },
  };
}
