import type { AccessRepo } from '../model/repo.js';
import { zoneOf } from '../model/time.js';
import { judgeRules } from '../rules/judge.js';
import { affects } from './affects.js';
import { basePolicy, verifiedCommitsOnly } from './base-policy.js';
import { type ChangedFile, classify, type FileVerdict, GRANT_PATH, type Review } from './classify.js';
import { contributorsOf, type GithubUser, type PullCommit } from './contributors.js';
import { onlyShortens } from './shortens.js';

/** A changed path as git names it, before the judge says whose access it touches. */
export type RawChange = Omit<ChangedFile, 'affects' | 'namesOnly' | 'regrant' | 'shortens'>;

/** What a pull request says about who wrote it and who approved it. */
export interface PullFacts {
  /** Its author; absent when iden cannot tell (the grant flow without a login). */
  author?: GithubUser;
  /** The commit reviews must approve. */
  head: string;
  commits: readonly PullCommit[];
  /** How many commits GitHub says it has (it lists at most 250). */
  commitCount?: number;
  reviews: readonly Review[];
  /** More writers, named by hand (check-pr --contributor, the grant flow's git user). */
  named?: readonly string[];
  /** Writers known to be there but not who they are. */
  unknown?: readonly string[];
}

export interface Change {
  /** The protected branch as it stood for this change: roles, people, logins and approvers are read here. */
  policy: AccessRepo;
  /** What the change starts from, and what it leaves (the merge result). */
  before: AccessRepo;
  after: AccessRepo;
  changed: readonly RawChange[];
  pull: PullFacts;
  /** Grant files the protected branch revoked recently: a new file for one of them is a change. */
  revoked?: ReadonlyMap<string, { commit: string; at: number }>;
}

/**
 * The one judge of a change to the access repository: the people whose own
 * access each path touches, who wrote the change, and whether the reviews
 * satisfy the policy of the protected branch. check-pr calls it on the merge
 * result before merge, apply on each merged pull request before it grants,
 * the audit on history, and the grant flow to forecast.
 */
export function judgeChange(change: Change): FileVerdict[] {
  const { policy, before, after, pull } = change;
  const files: ChangedFile[] = change.changed.map((c) => {
    const regrant = c.status === 'A' ? change.revoked?.get(c.path) : undefined;
    const raw = (repo: AccessRepo) => repo.grants.find((g) => g.file === c.path)?.raw;
    const shortens =
      c.status === 'M' &&
      GRANT_PATH.test(c.path) &&
      onlyShortens(raw(before), raw(after), raw(policy), zoneOf(policy));
    return {
      ...c,
      ...affects(c.path, before, after),
      ...(regrant ? { regrant } : {}),
      ...(shortens ? { shortens } : {}),
    };
  });
  const contributors = contributorsOf(
    pull.author ?? { login: '' },
    pull.commits,
    pull.named ?? [],
    verifiedCommitsOnly(policy),
  );
  if (!pull.author) contributors.logins = contributors.logins.filter((l) => l !== '');
  contributors.unknown.push(...(pull.unknown ?? []));
  if (pull.commitCount !== undefined && pull.commitCount > pull.commits.length)
    contributors.unknown.push(
      `the pull request has ${pull.commitCount} commits and GitHub lists only ${pull.commits.length}, so not every contributor is known`,
    );
  const base = basePolicy(policy);
  const verdicts = classify({ head: pull.head, contributors, files, reviews: [...pull.reviews], base });
  // Access rules (src/rules/): approvals per rule, directGrant, exceptions and emergency access.
  return judgeRules(verdicts, {
    policy,
    before,
    after,
    base,
    contributors,
    reviews: pull.reviews,
    head: pull.head,
  });
}
