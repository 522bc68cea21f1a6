import { accountDefaults } from '../connectors/catalog.js';
import { target } from '../model/access.js';
import { accountFor } from '../model/accounts.js';
import { type AccessRepo, type Person, peopleById } from '../model/repo.js';
import { type Instant, zoneOf } from '../model/time.js';
import { grantWindow, isActive, type Window } from '../model/window.js';
import { firstAfter } from '../util/sorted.js';

/** One valid grant as wantedEverywhere reads it: the account, what it gives, and when. */
interface Entry {
  /** `${app}\0${account}` */
  account: string;
  /** `${app}\0${account}\0${target}`, one per entitlement and tier. */
  keys: string[];
  window: Window;
}

/**
 * What a loaded repository's valid grants give, indexed once so that a
 * long-lived process (iden serve) answers at any instant without going over
 * every grant again: whether an account is still given something (target
 * sharing), and how many assignments stop being given between two instants
 * (the mass-removal guard). At each instant, exactly what wantedEverywhere
 * (org-removals.ts) gives.
 */
export class WantedIndex {
  private readonly byAccount = new Map<string, Entry[]>();
  /** Entries with an end, by end; with a start, by start. */
  private readonly ends: Entry[] = [];
  private readonly starts: Entry[] = [];
  /** What differs from another repository's index, per other index: the accounts whose entries differ. */
  private readonly differs = new WeakMap<WantedIndex, Set<string>>();

  /** Keeps nothing of the repository but what its grants give: an index outlives its repository (the guard's run before a pull). */
  constructor(repo: AccessRepo, people: Map<string, Person> = peopleById(repo)) {
    const zone = zoneOf(repo);
    for (const grant of repo.grants) {
      const value = grant.value;
      const app = value && repo.apps.get(value.app)?.value;
      const person = value && people.get(value.user);
      const window = value && grantWindow(value, zone);
      if (!value || !app || !person || !window) continue;
      const account = accountFor(person, value.app, accountDefaults[app.connector.type]);
      if (account === undefined) continue;
      const keys = (value.permissions ?? []).map(
        (entitlement) => `${value.app}\u0000${account}\u0000${target({ entitlement })}`,
      );
      if (value.license !== undefined)
        keys.push(`${value.app}\u0000${account}\u0000${target({ license: value.license })}`);
      if (keys.length === 0) continue;
      const entry = { account: `${value.app}\u0000${account}`, keys, window };
      const list = this.byAccount.get(entry.account);
      if (list) list.push(entry);
      else this.byAccount.set(entry.account, [entry]);
      if (window.end !== undefined) this.ends.push(entry);
      if (window.start !== undefined) this.starts.push(entry);
    }
    this.ends.sort((a, b) => a.window.end! - b.window.end!);
    this.starts.sort((a, b) => a.window.start! - b.window.start!);
  }

  /** Whether any valid grant gives the app's account something at the instant. */
  gives(app: string, account: string, at: Instant): boolean {
    return this.byAccount.get(`${app}\u0000${account}`)?.some((e) => isActive(e.window, at)) ?? false;
  }

  /** Whether the assignment (`${app}\0${account}\0${target}`) is given at the instant. */
  has(key: string, at: Instant): boolean {
    const account = key.slice(0, key.lastIndexOf('\u0000'));
    return this.byAccount.get(account)?.some((e) => isActive(e.window, at) && e.keys.includes(key)) ?? false;
  }

  /**
   * How many assignments `before` gives at `then` that this repository does
   * not give at `at`: |wantedEverywhere(before, then) \ wantedEverywhere(repo, at)|,
   * counted from the grants that start or end between the two instants and
   * the accounts whose grants differ between the two repositories.
   */
  removedSince(before: WantedIndex, then: Instant, at: Instant): number {
    const changed = before === this ? undefined : this.differFrom(before);
    const counted = new Set<string>();
    let count = 0;
    const consider = (key: string, was: boolean) => {
      if (counted.has(key)) return;
      counted.add(key);
      if (was && !this.has(key, at)) count++;
    };
    for (const account of changed ?? [])
      for (const e of before.byAccount.get(account) ?? [])
        for (const key of e.keys) consider(key, before.has(key, then));
    // Elsewhere both give the same at every instant: only a grant that ends (or, going back, starts) between the two changes.
    const moved =
      at >= then
        ? between(this.ends, then, at, (e) => e.window.end!)
        : between(this.starts, at, then, (e) => e.window.start!);
    for (const e of moved) {
      if (changed?.has(e.account)) continue;
      for (const key of e.keys) consider(key, this.has(key, then));
    }
    return count;
  }

  /** The accounts whose entries differ between the two indexes (made once per pair). */
  private differFrom(other: WantedIndex): Set<string> {
    const known = this.differs.get(other);
    if (known) return known;
    const signature = (list: Entry[] | undefined) =>
      JSON.stringify((list ?? []).map((e) => [e.keys, e.window.start ?? null, e.window.end ?? null]).sort());
    const out = new Set<string>();
    for (const account of new Set([...this.byAccount.keys(), ...other.byAccount.keys()]))
      if (signature(this.byAccount.get(account)) !== signature(other.byAccount.get(account)))
        out.add(account);
    this.differs.set(other, out);
    return out;
  }
}

/** The entries of a list sorted by `of` whose instant is in (from, to]. */
function between(list: Entry[], from: Instant, to: Instant, of: (e: Entry) => Instant): Entry[] {
  return list.slice(firstAfter(list, from, of), firstAfter(list, to, of));
}
