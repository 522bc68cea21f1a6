// Whose reviews of a pull request count: each reviewer's latest verdict, the
// person behind each GitHub account, and which approvals a rule may count.
import type { BasePolicy, Review, ReviewNote } from './classify.js';

/**
 * The person a GitHub account is: by login, and where _people.yaml pins the
 * login to a numeric id (githubId) and GitHub gave one, only if they match,
 * so a renamed or recycled login never inherits a role.
 */
export function personOf(base: BasePolicy, login: string, id: number | undefined): string | undefined {
  const person = base.logins.get(login.toLowerCase());
  if (person === undefined) return undefined;
  const pinned = base.githubIds.get(person);
  return pinned !== undefined && id !== undefined && pinned !== id ? undefined : person;
}

export interface Judged {
  notes: ReviewNote[];
  /** Eligible people whose approval of the head counts. */
  by: string[];
  /** Eligible people who could still approve. */
  could: string[];
  /** Eligible by role, but excluded as a contributor or as someone whose access this is. */
  excluded: string[];
}

/** Each reviewer's latest review that is a verdict (COMMENTED and PENDING say nothing), and whether they approved before. */
export function latestReviews(
  reviews: Review[],
): Map<string, { login: string; review: Review; approvedBefore: boolean }> {
  const ordered = [...reviews].sort(
    (a, b) =>
      (Date.parse(a.submitted_at ?? '') || 0) - (Date.parse(b.submitted_at ?? '') || 0) ||
      (a.id ?? 0) - (b.id ?? 0),
  );
  const latest = new Map<string, { login: string; review: Review; approvedBefore: boolean }>();
  for (const review of ordered) {
    const login = review.user?.login;
    if (!login || review.state === 'COMMENTED' || review.state === 'PENDING') continue;
    const key = login.toLowerCase();
    const before = latest.get(key);
    latest.set(key, {
      login,
      review,
      approvedBefore: (before?.approvedBefore ?? false) || before?.review.state === 'APPROVED',
    });
  }
  return latest;
}

export function judgeReviews(
  latest: ReturnType<typeof latestReviews>,
  head: string,
  eligible: Set<string>,
  writers: Set<string>,
  affected: Set<string>,
  base: BasePolicy,
  role: string,
): Judged {
  const notes: ReviewNote[] = [];
  const by: string[] = [];
  const excludedBecause = (person: string) =>
    writers.has(person)
      ? 'wrote part of this pull request'
      : affected.has(person)
        ? 'it is their own access'
        : undefined;
  for (const [key, { login, review, approvedBefore }] of latest) {
    const person = personOf(base, login, review.user?.id);
    const renamed = person === undefined && base.logins.has(key);
    const note = (counted: boolean, why: string): ReviewNote => ({
      login,
      ...(person !== undefined ? { person } : {}),
      state: review.state,
      counted,
      why,
    });
    if (review.state !== 'APPROVED') {
      const withdrawn = approvedBefore ? ', withdrawing an earlier approval' : '';
      notes.push(
        note(
          false,
          review.state === 'DISMISSED' ? `review dismissed${withdrawn}` : `requested changes${withdrawn}`,
        ),
      );
    } else if (person === undefined)
      notes.push(
        note(
          false,
          renamed
            ? `another GitHub account than the one _people.yaml pins ${login} to (githubId): a renamed or recycled login`
            : 'not a person in _people.yaml (no accounts.github)',
        ),
      );
    else if (review.commit_id !== head)
      notes.push(
        note(false, `approved an older commit ${(review.commit_id ?? '').slice(0, 7)}, not the head`),
      );
    else if (excludedBecause(person))
      notes.push(note(false, `not counted: ${person} ${excludedBecause(person)}`));
    else if (!eligible.has(person)) notes.push(note(false, `not counted: ${person} is not ${role}`));
    else {
      notes.push(note(true, 'approved the head'));
      by.push(person);
    }
  }
  const could = [...eligible].filter((p) => !excludedBecause(p));
  const excluded = [...eligible].filter((p) => excludedBecause(p));
  return { notes, by, could, excluded };
}
