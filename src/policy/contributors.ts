import type { Contributors } from './classify.js';

/** A GitHub account as the API names it: its login and, where given, its numeric id (which a rename keeps). */
export interface GithubUser {
  login: string;
  id?: number | undefined;
}

/** A pull request's commit as GitHub lists it (the fields used). */
export interface PullCommit {
  sha: string;
  author: GithubUser | null;
  committer: GithubUser | null;
  commit: {
    /** The author's email and date, as the commit records them (a rebase keeps both). */
    author: { email?: string; date?: string } | null;
    committer: { email?: string } | null;
    verification?: { verified: boolean } | null;
    message?: string;
  };
}

/** GitHub's own identity: commits made in its web editor, merges, and anything any git client signs as it. */
const WEB_FLOW = 'web-flow';
const GITHUB_EMAIL = 'noreply@github.com';

/**
 * Everyone who wrote a pull request: its author, every commit's author and
 * committer (their GitHub logins, with the numeric ids GitHub gives), and
 * any logins named by hand. Somebody unknown is never an admin, and makes
 * the writers unknown: a commit whose author or committer GitHub links to no
 * account; a commit *authored* as GitHub itself (any git client can write
 * `GitHub <noreply@github.com>`); a commit *committed* as GitHub that GitHub
 * did not verify (its web editor signs what it commits); and, with
 * `verifiedOnly`, any commit GitHub did not verify.
 */
export function contributorsOf(
  author: GithubUser,
  commits: readonly PullCommit[],
  named: readonly string[],
  verifiedOnly: boolean,
): Contributors {
  const logins = new Map<string, string>([[author.login.toLowerCase(), author.login]]);
  const ids = new Map<string, number>();
  if (author.id !== undefined) ids.set(author.login.toLowerCase(), author.id);
  const unknown: string[] = [];
  for (const login of named) if (!logins.has(login.toLowerCase())) logins.set(login.toLowerCase(), login);
  for (const c of commits) {
    const short = c.sha.slice(0, 7);
    const verified = c.commit.verification?.verified === true;
    if (verifiedOnly && !verified) {
      unknown.push(`commit ${short} is not signed with a signature GitHub verified`);
      continue;
    }
    for (const [role, user, email] of [
      ['author', c.author, c.commit.author?.email],
      ['committer', c.committer, c.commit.committer?.email],
    ] as const) {
      const github = user?.login === WEB_FLOW || email?.toLowerCase() === GITHUB_EMAIL;
      if (github) {
        // GitHub commits as itself only what its web editor or a merge made, and signs it.
        if (role === 'author')
          unknown.push(`commit ${short} is authored as GitHub itself (${WEB_FLOW}), which names nobody`);
        else if (!verified)
          unknown.push(
            `commit ${short} is committed as GitHub itself (${WEB_FLOW}) without GitHub's verified signature`,
          );
        continue;
      }
      if (!user?.login) {
        unknown.push(`commit ${short}'s ${role} ${email ?? '(no email)'} is linked to no GitHub account`);
        continue;
      }
      const key = user.login.toLowerCase();
      if (!logins.has(key)) logins.set(key, user.login);
      if (user.id !== undefined) {
        const known = ids.get(key);
        if (known !== undefined && known !== user.id)
          unknown.push(`commit ${short}'s ${role} ${user.login} is another GitHub account than the login's`);
        else ids.set(key, user.id);
      }
    }
  }
  return { logins: [...logins.values()], ids, unknown };
}
