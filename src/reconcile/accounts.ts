// Which person an account in an app is: the account the person names for the app
// (`accounts.<app>`), else the one the connector derives (their id, email or GitHub
// login), compared as the app compares them; where two people share one, the later
// in _people.yaml. Made per app this was every person once per app: 100,000 people in
// 2,000 apps, 200 million entries. The derived accounts are indexed once per way of
// deriving them, and an app adds only the accounts it is named by.
import type { AccountRule } from '../model/accounts.js';
import type { Person } from '../model/repo.js';

/** Account (as the app compares them) to person id. */
export type AccountIndex = Pick<ReadonlyMap<string, string>, 'get'>;

/** What every app's index shares in a run: the derived accounts per way of deriving them, and who names their own account in which app. */
export class AccountWays {
  private readonly derived = new Map<string, Map<string, number[]>>();
  private naming: Map<string, number[]> | undefined;

  constructor(private readonly people: readonly Person[]) {}

  /** Each derived account's holders one way (rule and case): positions in _people.yaml, ascending. */
  holders(rule: AccountRule | undefined, fold: boolean): Map<string, number[]> {
    const way = `${rule}\u0000${fold}`;
    let index = this.derived.get(way);
    if (index) return index;
    index = new Map();
    for (const [i, p] of this.people.entries()) {
      const account =
        rule === 'id'
          ? p.id
          : rule === 'email'
            ? p.email
            : rule === 'github'
              ? p.accounts?.github
              : undefined;
      if (!account) continue;
      const key = fold ? account.toLowerCase() : account;
      const list = index.get(key);
      if (list) list.push(i);
      else index.set(key, [i]);
    }
    this.derived.set(way, index);
    return index;
  }

  /** The positions of the people who name their own account in the app, ascending. */
  namingIn(app: string): readonly number[] {
    if (!this.naming) {
      this.naming = new Map();
      for (const [i, p] of this.people.entries())
        for (const id of Object.keys(p.accounts ?? {})) {
          const list = this.naming.get(id);
          if (list) list.push(i);
          else this.naming.set(id, [i]);
        }
    }
    return this.naming.get(app) ?? [];
  }
}

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
