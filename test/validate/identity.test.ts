import { describe, expect, it } from 'vitest';
import { connectorMetas } from '../../src/connectors/catalog.js';
import { accountFor } from '../../src/model/accounts.js';
import { error, type Finding, type YamlPath } from '../../src/model/diagnostics.js';
import type { PersonView, RuleContext } from '../../src/validate/context.js';
import { oneAccountOnePerson } from '../../src/validate/rules/identity.js';
import { seededInts } from '../helpers/seeded.js';

/** The rule as first written, every app reading every person: the reference the faster one must equal. */
function reference(ctx: RuleContext): Finding[] {
  const file = ctx.repo.people!.file;
  const findings: Finding[] = [];
  const check = (
    where: string,
    fold: boolean,
    accountOf: (p: PersonView) => string | undefined,
    pathOf: (p: PersonView) => YamlPath,
  ) => {
    const seen = new Map<string, string>();
    for (const person of ctx.people.values()) {
      const account = accountOf(person);
      if (account === undefined) continue;
      const key = fold ? account.toLowerCase() : account;
      const other = seen.get(key);
      if (other === undefined) seen.set(key, person.id);
      else
        findings.push(
          error(
            file,
            'duplicate-account',
            `${person.id}'s account ${account} in ${where} is also ${other}'s: one account is one person's; give each their own (accounts.${where === 'GitHub' ? 'github' : where})`,
            pathOf(person),
          ),
        );
    }
  };
  check(
    'GitHub',
    true,
    (p) => p.accounts.github,
    (p) => ['people', p.index, 'accounts', 'github'],
  );
  for (const app of ctx.apps.values()) {
    const meta = app.connectorType === undefined ? undefined : connectorMetas[app.connectorType];
    if (!meta) continue;
    check(
      app.id,
      meta.caseInsensitiveAccounts,
      (p) => accountFor(p, app.id, meta.accountDefault),
      (p) =>
        p.accounts[app.id] !== undefined
          ? ['people', p.index, 'accounts', app.id]
          : meta.accountDefault === 'email'
            ? ['people', p.index, 'email']
            : ['people', p.index, 'id'],
    );
  }
  return findings;
}

/** People whose ids, emails and accounts often collide, in apps of every connector type (and one unknown). */
function world(seed: number): RuleContext {
  const r = seededInts(seed);
  const types = [...Object.keys(connectorMetas), 'unknown'];
  const apps = new Map(
    Array.from({ length: 1 + r(8) }, (_, a) => {
      const id = a === 0 && r(2) ? 'github' : `app${a}`;
      return [id, { id, connectorType: r(10) ? types[r(types.length)] : undefined }];
    }),
  );
  const names = ['Ann', 'ann', 'BOB', 'bob', 'cy', 'Dee'];
  const people = new Map<string, PersonView>();
  const count = r(12);
  for (let index = 0; index < count; index++) {
    const id = `p${r(count + 2)}`;
    if (people.has(id)) continue;
    const accounts: Record<string, string> = {};
    if (r(2)) accounts.github = names[r(names.length)]!;
    for (const app of apps.keys())
      if (!r(3)) accounts[app] = r(2) ? names[r(names.length)]! : `p${r(count + 2)}`;
    const email = r(5) ? `${names[r(names.length)]}@example.com` : undefined;
    people.set(id, { id, index, email, accounts });
  }
  return {
    repo: { people: { file: 'grants/_people.yaml' } },
    people,
    apps,
  } as unknown as RuleContext;
}

describe('oneAccountOnePerson', () => {
  it('finds exactly what reading every person for every app finds, in the same order, over 3,000 random directories', () => {
    let found = 0;
    for (let seed = 1; seed <= 3_000; seed++) {
      const ctx = world(seed);
      const expected = reference(ctx);
      found += expected.length;
      expect(oneAccountOnePerson(ctx), `seed ${seed}`).toEqual(expected);
    }
    // The worlds collide often enough that the comparison means something.
    expect(found).toBeGreaterThan(2_000);
  });
});
