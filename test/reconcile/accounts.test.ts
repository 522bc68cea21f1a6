import { describe, expect, it } from 'vitest';
import { type AccountRule, AccountWays, accountFor } from '../../src/model/accounts.js';
import type { Person } from '../../src/model/repo.js';
import { accountsOf } from '../../src/reconcile/accounts.js';
import { seededInts } from '../helpers/seeded.js';

describe('the people of an app by account', () => {
  it('answers as a map made over every person in order (the later wins) does, for every app and way, over 1,000 random directories', () => {
    const rules: (AccountRule | undefined)[] = ['id', 'email', 'github', undefined];
    const words = ['ann', 'Ann', 'bob', 'BOB', 'cy', '', 'p1', 'P2'];
    let asked = 0;
    let found = 0;
    const wrong: string[] = [];
    for (let seed = 1; seed <= 1_000; seed++) {
      const r = seededInts(seed);
      const apps = ['a', 'b', 'github'];
      const people: Person[] = Array.from({ length: r(10) }, (_, i) => {
        const accounts: Record<string, string> = {};
        for (const app of apps) if (!r(3)) accounts[app] = words[r(words.length)]!;
        return {
          id: `p${r(4) ? i : r(3)}`,
          name: 'P',
          email: `${words[r(words.length)]}@x`,
          ...(r(4) ? { accounts } : {}),
        } as Person;
      });
      const ways = new AccountWays(people);
      for (const app of apps)
        for (const rule of rules)
          for (const fold of [false, true]) {
            const norm = (a: string) => (fold ? a.toLowerCase() : a);
            const reference = new Map<string, string>();
            for (const p of people) {
              const account = accountFor(p, app, rule);
              if (account) reference.set(norm(account), p.id);
            }
            const index = accountsOf(app, rule, fold, people, ways);
            for (const word of [...words, ...words.map((w) => `${w}@x`), 'p0', 'p1', 'p3', 'nobody']) {
              const key = norm(word);
              asked++;
              if (reference.has(key)) found++;
              if (index.get(key) !== reference.get(key))
                wrong.push(`seed ${seed} ${app} ${rule} ${fold} ${key}`);
            }
          }
    }
    expect(wrong).toEqual([]);
    expect(found).toBeGreaterThan(asked / 25);
  });
});
