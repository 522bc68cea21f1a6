import { readBlobs } from '../git/blobs.js';
import { noteListing } from '../git/notes.js';
import { CommitTree } from '../git/tree.js';
import { loadTree } from '../load/repo.js';
import type { AccessRepo, GrantEntry, Person } from '../model/repo.js';
import { peopleById } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { StandingValidation } from '../validate/standing.js';
import { REMOVAL_WINDOW_MS } from './org-removals.js';
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
  private readonly runs = new RecordRuns();
  /** The guard's indexes of recorded commits: the latest few. */
  private readonly byCommit = new Map<string, WantedIndex>();

  of(repo: AccessRepo): RepoFacts {
    let facts = this.facts.get(repo);
    if (!facts) {
      facts = new RepoFacts(repo);
      this.facts.set(repo, facts);
    }
    return facts;
  }

  /**
   * repositoryRemovals (org-removals.ts), the same count: the records read
   * once each, the repositories compared through their indexes, and only the
   * grants that start or end between the two instants looked at.
   */
  async removals(
    root: string,
    repo: AccessRepo,
    commit: string,
    at: Instant,
    now: Instant,
  ): Promise<{ count: number; since: string } | undefined> {
    const latest = await this.runs.latestBefore(root, now - REMOVAL_WINDOW_MS);
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

  private keep(commit: string, index: WantedIndex): void {
    this.byCommit.delete(commit);
    this.byCommit.set(commit, index);
    while (this.byCommit.size > 3) this.byCommit.delete(this.byCommit.keys().next().value!);
  }
}

/** When each recorded run started and what instant it evaluated, per note blob: a blob's content never changes. */
class RecordRuns {
  private known = new Map<string, { run: string; at: string }[]>();

  /** The latest recorded run that started at or before `cutoff`, as repositoryRemovals picks it. */
  async latestBefore(
    root: string,
    cutoff: Instant,
  ): Promise<{ commit: string; at: string; run: string } | undefined> {
    const listing = await noteListing(root);
    const fresh = listing.filter(([note]) => !this.known.has(note)).map(([note]) => note);
    const blobs = fresh.length > 0 ? await readBlobs(root, fresh) : new Map<string, string>();
    const known = new Map<string, { run: string; at: string }[]>();
    for (const [note] of listing) known.set(note, this.known.get(note) ?? runsOf(blobs.get(note) ?? ''));
    this.known = known;
    let latest: { commit: string; at: string; run: string } | undefined;
    for (const [note, commit] of listing) {
      for (const line of known.get(note) ?? []) {
        const run = Date.parse(line.run);
        if (!(run <= cutoff)) continue;
        if (!latest || line.run > latest.run) latest = { commit, at: line.at, run: line.run };
      }
    }
    return latest;
  }
}

function runsOf(text: string): { run: string; at: string }[] {
  const out: { run: string; at: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: { run?: unknown; at?: unknown } | undefined;
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      continue;
    }
    if (typeof value?.run === 'string' && typeof value.at === 'string')
      out.push({ run: value.run, at: value.at });
  }
  return out;
}
