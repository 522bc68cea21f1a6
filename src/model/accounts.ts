/** How a connector names a person's account when _people.yaml gives none for the app. */
export type AccountRule = 'id' | 'email' | 'github';

/**
 * A person's account in an app: `accounts.<app>` when given, else what the
 * connector derives: their id, their email, or their GitHub login
 * (`accounts.github`, which every GitHub app shares and pull-request checks
 * and the audit read too). Undefined: the person has no account there.
 */
export function accountFor(
  person: { id: string; email?: string | undefined; accounts?: Record<string, string> | undefined },
  app: string,
  rule: AccountRule | undefined,
): string | undefined {
  const given = person.accounts?.[app];
  return given !== undefined ? given : derivedAccount(person, rule);
}

/** What a connector derives as a person's account, whatever the person names for the app. */
export function derivedAccount(
  person: { id: string; email?: string | undefined; accounts?: Record<string, string> | undefined },
  rule: AccountRule | undefined,
): string | undefined {
  if (rule === 'id') return person.id;
  if (rule === 'email') return person.email;
  if (rule === 'github') return person.accounts?.github;
  return undefined;
}

type Named = { id: string; email?: string | undefined; accounts?: Record<string, string> | undefined };

/**
 * The people's accounts, indexed once and shared by every app that reads them (validation's
 * one account one person, the plan's people by account): per way of deriving accounts (rule
 * and case), each account's holders; per app, who names their own account there. Made per
 * app, this was every person once per app: 100,000 people in 2,000 apps, 200 million steps.
 */
export class AccountWays {
  private readonly derived = new Map<string, Map<string, number[]>>();
  private naming: Map<string, number[]> | undefined;

  constructor(private readonly people: readonly Named[]) {}

  /** Each derived account's holders one way, as compared (folded when `fold`): positions in the list, ascending. */
  holders(rule: AccountRule | undefined, fold: boolean): Map<string, number[]> {
    const way = `${rule}\u0000${fold}`;
    let index = this.derived.get(way);
    if (index) return index;
    index = new Map();
    for (const [i, p] of this.people.entries()) {
      const account = derivedAccount(p, rule);
      if (account === undefined) continue;
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
