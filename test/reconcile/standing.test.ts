import { describe, expect, it } from 'vitest';
import type { Registry } from '../../src/connectors/catalog.js';
import { CommitTree } from '../../src/git/tree.js';
import { loadRepo, loadTree } from '../../src/load/repo.js';
import type { AccessRepo } from '../../src/model/repo.js';
import { repositoryRemovals, wantedEverywhere } from '../../src/reconcile/org-removals.js';
import { Standing } from '../../src/reconcile/standing.js';
import { targetSharing } from '../../src/reconcile/target-sharing.js';
import { WantedIndex } from '../../src/reconcile/wanted.js';
import { validateRepo } from '../../src/validate/validate.js';
import { commitAll, git } from '../helpers/git.js';
import { baseRepo, type FileTree, writeTree } from '../helpers/repo.js';
import { rulesRepo } from '../rules/fixture.js';
import { cases } from '../validate/malformed-cases.js';

/**
 * What iden serve keeps between runs must give, at every instant, exactly
 * what a run computing everything afresh gives: the same diagnostics, the
 * same accounts still granted on a shared target, the same count of removals
 * for the mass-removal guard.
 */

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** A seeded generator: the same repository every run. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/** Three apps, eight people, grants starting and ending on a few shared instants (so many tie). */
function generated(seed: number, extra: FileTree = {}): FileTree {
  const r = random(seed);
  const people = ['ana', 'ben', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
  const tree: FileTree = {
    'grants/_settings.yaml': 'timezone: UTC\npolicy: { verifyMerges: false }\n',
    'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: ${p}, email: ${p}@example.com }\n`).join('')}`,
  };
  for (const app of ['db', 'wh', 'crm']) {
    tree[`grants/${app}/_app.yaml`] =
      `name: ${app}\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: ${app}_read }\n  - { id: write, kind: role, role: ${app}_write }\nlicenses:\n  - { id: seat, seats: 3, role: ${app}_seat }\n`;
    for (const person of people) {
      if (r(3) === 0) continue;
      const perms = [['read'], ['write'], ['read', 'write'], []][r(4)]!;
      let body = `user: ${person}\napp: ${app}\npermissions: [${perms.join(', ')}]\n`;
      if (r(2) === 0) body += 'license: seat\n';
      const start = r(3) === 0 ? T0 + r(4) * DAY : undefined;
      const end = r(2) === 0 ? (start ?? T0) + (1 + r(4)) * DAY : undefined;
      if (start !== undefined) body += `start: ${iso(start)}\n`;
      if (end !== undefined) body += `end: ${iso(end)}\n`;
      tree[`grants/${app}/${person}.yaml`] = body;
    }
  }
  return { ...tree, ...extra };
}

/** Every instant a grant starts or ends, a moment either side, and some between. */
function instants(): number[] {
  const out: number[] = [T0 - 400 * DAY, T0 + 400 * DAY];
  for (let d = -1; d <= 6; d++)
    out.push(T0 + d * DAY - 1, T0 + d * DAY, T0 + d * DAY + 1, T0 + d * DAY + DAY / 2);
  // Out of order, as the guard compares an earlier run's instant with a later one and the reverse.
  return out.sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009));
}

const loaded = async (tree: FileTree) => loadRepo(writeTree(tree));

describe('what iden serve keeps between runs', () => {
  it('validates exactly as validateRepo at every instant', async () => {
    const trees: FileTree[] = [
      baseRepo,
      ...cases.filter((c) => !c.setup).map((c) => ({ ...baseRepo, ...c.changes })),
      // Access rules: a duration cap counts from the instant; a conflict in force later; emergency access.
      {
        ...rulesRepo,
        'grants/payments/dave.yaml':
          'user: dave\napp: payments\npermissions: [submit, approve]\nreason: X-1\n',
        'grants/payments/frank.yaml': `user: frank\napp: payments\npermissions: [submit]\nstart: ${iso(T0 + DAY)}\nend: ${iso(T0 + 200 * DAY)}\nreason: X-2\n`,
        'grants/payments/erin.yaml': `user: erin\napp: payments\npermissions: [read]\nemergency: true\nend: ${iso(T0 + 2 * DAY)}\nreason: X-3\n`,
      },
      // Seats: three hold a tier of two until one ends; an end before its start; a date that is no date.
      {
        ...baseRepo,
        'grants/gh/alice.yaml': `user: alice\napp: gh\npermissions: [engineering]\nlicense: seat\nend: ${iso(T0 + 2 * DAY)}\n`,
        'grants/gh/carol.yaml': `user: carol\napp: gh\npermissions: [engineering]\nlicense: seat\nstart: ${iso(T0 - DAY)}\nend: ${iso(T0 + 3 * DAY)}\n`,
        'grants/db/bob.yaml': `user: bob\napp: db\npermissions: [readonly]\nstart: ${iso(T0 + DAY)}\nend: ${iso(T0)}\n`,
        'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\nend: 2026-13-01\n',
      },
      generated(1),
    ];
    for (const tree of trees) {
      const repo = await loaded(tree);
      const facts = new Standing().of(repo);
      for (const at of instants()) expect(facts.validation.at(at)).toEqual(validateRepo(repo, at));
    }
  });

  it('counts removals between two instants and two commits as the whole-repository count does', async () => {
    const repos = await Promise.all([1, 2, 3].map((seed) => loaded(generated(seed))));
    // A second commit: some grants changed, one person's account renamed, one app gone.
    const changed = await loaded(
      generated(1, {
        'grants/_people.yaml': generated(1)
          ['grants/_people.yaml']!.toString()
          .replace('{ id: ben,', '{ id: ben, accounts: { db: benny },'),
        'grants/crm/_app.yaml': null,
        ...Object.fromEntries(Object.entries(generated(2)).filter(([path]) => path.startsWith('grants/wh/'))),
      }),
    );
    const pairs: [AccessRepo, AccessRepo][] = [
      ...repos.map((r): [AccessRepo, AccessRepo] => [r, r]),
      [repos[0]!, changed],
      [changed, repos[0]!],
    ];
    for (const [before, after] of pairs) {
      const from = new WantedIndex(before);
      const to = before === after ? from : new WantedIndex(after);
      for (const then of instants())
        for (const at of instants()) {
          const wanted = wantedEverywhere(after, at);
          const expected = [...wantedEverywhere(before, then)].filter((k) => !wanted.has(k)).length;
          expect(to.removedSince(from, then, at)).toBe(expected);
        }
      for (const at of instants()) {
        const wanted = new Set(
          [...wantedEverywhere(after, at)].map((k) => k.split('\u0000').slice(0, 2).join('\u0000')),
        );
        for (const app of ['db', 'wh', 'crm'])
          for (const account of ['ana', 'ben', 'benny', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'])
            expect(to.gives(app, account, at)).toBe(wanted.has(`${app}\u0000${account}`));
      }
    }
  });

  it('says which accounts a shared target still grants as target sharing does', async () => {
    // db and wh on one cluster, crm on its own; one grant file that does not validate keeps its account.
    const repo = await loaded(
      generated(4, {
        'grants/wh/zed.yaml': 'user: zed\napp: wh\npermissions: [read]\n',
        'grants/db/gus.yaml': 'user: gus\napp: db\npermissions: [nope]\n',
      }),
    );
    const registry = {
      postgres: { target: (spec: { id: string }) => (spec.id === 'crm' ? 'crm:5432' : 'main:5432') },
    } as unknown as Registry;
    const facts = new Standing().of(repo);
    for (const at of instants()) {
      const validation = validateRepo(repo, at);
      const eager = targetSharing(repo, at, registry, {}, validation);
      const kept = targetSharing(repo, at, registry, {}, facts.validation.at(at), {
        wanted: facts.wanted,
        people: facts.people,
        grantsByFile: facts.grantsByFile,
      });
      for (const app of ['db', 'wh', 'crm'])
        for (const account of ['ana', 'ben', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'zed'])
          expect(kept.stillGranted(app, account)).toBe(eager.stillGranted(app, account));
    }
  });

  it('finds the run to count from in the records, read once each, as repositoryRemovals does', async () => {
    const dir = writeTree({ ...generated(5), '.gitignore': '.iden/\n' });
    commitAll(dir, 'first');
    const first = git(dir, ['rev-parse', 'HEAD']).trim();
    writeTree(generated(6), dir);
    commitAll(dir, 'second');
    const second = git(dir, ['rev-parse', 'HEAD']).trim();
    const note = (commit: string, run: number, at: number) =>
      git(dir, [
        'notes',
        '--ref=refs/notes/iden',
        'append',
        '-m',
        JSON.stringify({ v: 2, run: iso(run), at: iso(at), changes: [] }),
        commit,
      ]);
    const repo = await loadRepo(dir);
    const standing = new Standing();
    const check = async (now: number, at: number) =>
      expect(await standing.removals(dir, repo, second, at, now)).toEqual(
        await repositoryRemovals(dir, repo, at, now, second),
      );
    await check(T0, T0);
    note(first, T0 - DAY, T0 - DAY);
    for (const at of [T0, T0 + 2 * DAY]) await check(T0, at);
    // A later run on the same commit, then runs on the second: the latest a window before now counts.
    note(first, T0 - DAY / 2, T0 + DAY);
    note(second, T0 - 10 * 60_000, T0 + 3 * DAY);
    for (const now of [T0, T0 + 5 * 60_000, T0 + DAY])
      for (const at of [T0, T0 + 2 * DAY, T0 + 5 * DAY]) await check(now, at);
    git(dir, ['notes', '--ref=refs/notes/iden', 'append', '-m', 'not json', second]);
    await check(T0 + DAY, T0 + DAY);
    // The index serve keeps of the commit it ran on before a pull counts as the tree read again does.
    const kept = new Standing();
    kept.keep(first, new WantedIndex(await loadTree(await CommitTree.open(dir, first))));
    for (const at of [T0, T0 + 2 * DAY])
      expect(await kept.removals(dir, repo, second, at, T0)).toEqual(
        await repositoryRemovals(dir, repo, at, T0, second),
      );
  });
});
