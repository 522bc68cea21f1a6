import { CommitTree } from '../git/tree.js';
import { loadTree } from '../load/repo.js';
import type { AccessRepo, GrantEntry, Person } from '../model/repo.js';
import { peopleById } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { StandingValidation } from '../validate/standing.js';
import { runToCountFrom } from './org-removals.js';
import { WantedIndex } from './wanted.js';

/** What a run derives from one loaded repository alone, made once (and only when a run needs it). */
export class RepoFacts {
  private made = new Map<string, unknown>();
  constructor(readonly repo: AccessRepo) {}

  private once<T>(name: string, make: () => T): T {
    if (!this.made.has(name)) this.made.set(name, make());
    return this.made.get(name) as T;
  }

  /** validateRepo(repo, at), the rules that do not read the instant run once. */
  get validation(): StandingValidation {
    return this.once('validation', () => new StandingValidation(this.repo));
  }
  get people(): Map<string, Person> {
    return this.once('people', () => peopleById(this.repo));
  }
  get wanted(): WantedIndex {
    return this.once('wanted', () => new WantedIndex(this.repo, this.people));
  }
  get grantsByFile(): Map<string, GrantEntry> {
    return this.once('grantsByFile', () => new Map(this.repo.grants.map((g) => [g.file, g])));
  }
  /** Anything else a run derives from the repository alone, by a name the caller gives it. */
  derived<T>(name: string, make: () => T): T {
    return this.once(`derived:${name}`, make);
  }
}

/**
 * What a long-lived process (iden serve) keeps between its runs: what each
 * run derives from the repository alone, once per loaded repository (a pull
 * loads a new one, and everything is derived from it afresh), and what it has
 * read of the apply records. Nothing kept is asked of an app, and nothing
 * kept decides without the same checks a run makes: it only saves doing the
 * same work again.
 */
export class Standing {
  private readonly facts = new WeakMap<AccessRepo, RepoFacts>();
  /** The guard's indexes of recorded commits: the latest few. */
  private readonly byCommit = new Map<string, WantedIndex>();

  private readonly remembered = new Map<string, Promise<unknown>>();

  /** A value kept under a key that names all it depends on (a commit, a folder); the latest few. */
  remember<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.remembered.get(key) as Promise<T> | undefined;
    if (!value) {
      value = make();
      this.remembered.set(key, value);
      value.catch(() => this.remembered.delete(key));
      while (this.remembered.size > 16) this.remembered.delete(this.remembered.keys().next().value!);
    }
    return value;
  }

  /** Blobs read from git, by id: a blob's content never changes (earlier versions of grant and app files). */
  readonly blobs = new Map<string, string>();

  of(repo: AccessRepo): RepoFacts {
    let facts = this.facts.get(repo);
    if (!facts) {
      facts = new RepoFacts(repo);
      this.facts.set(repo, facts);
    }
    return facts;
  }

  /**
   * repositoryRemovals (org-removals.ts), the same count: the repositories
   * compared through their indexes, and only the grants that start or end
   * between the two instants looked at.
   */
  async removals(
    root: string,
    repo: AccessRepo,
    commit: string,
    at: Instant,
    now: Instant,
  ): Promise<{ count: number; since: string } | undefined> {
    const latest = await runToCountFrom(root, now);
    if (!latest) return undefined;
    const current = this.of(repo).wanted;
    this.keep(commit, current);
    let before = this.byCommit.get(latest.commit);
    if (!before) {
      try {
        before = new WantedIndex(await loadTree(await CommitTree.open(root, latest.commit)));
      } catch {
        return undefined;
      }
      this.keep(latest.commit, before);
    }
    return { count: current.removedSince(before, Date.parse(latest.at), at), since: latest.run };
  }

  /**
   * Keeps what a commit's grants give for the guard's later runs: for a
   * window after a pull, the run removals are counted from was on the
   * commit before, which is then not read again.
   */
  keep(commit: string, index: WantedIndex): void {
    this.byCommit.delete(commit);
    this.byCommit.set(commit, index);
    while (this.byCommit.size > 3) this.byCommit.delete(this.byCommit.keys().next().value!);
  }
}
