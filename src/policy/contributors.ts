import type { Contributors } from './classify.js';

/** A pull request's commit as GitHub lists it (the fields used). */
export interface PullCommit {
  sha: string;
  author: { login: string } | null;
  committer: { login: string } | null;
  commit: {
    author: { email?: string } | null;
    committer: { email?: string } | null;
    verification?: { verified: boolean } | null;
  };
}

/** GitHub commits in its web editor and merges as this account: it is GitHub, not a contributor. */
const GITHUB_ITSELF = new Set(['web-flow']);

/**
 * Everyone who wrote a pull request: its author, every commit's author and
 * committer (their GitHub logins), and any logins named by hand. A commit
 * whose author or committer GitHub links to no account (or, with
 * `verifiedOnly`, whose signature GitHub did not verify) names somebody
 * unknown, who is never an admin.
 */
export function contributorsOf(
  author: string,
  commits: readonly PullCommit[],
  named: readonly string[],
  verifiedOnly: boolean,
): Contributors {
  const logins = new Map<string, string>([[author.toLowerCase(), author]]);
  const unknown: string[] = [];
  for (const login of named) if (!logins.has(login.toLowerCase())) logins.set(login.toLowerCase(), login);
  for (const c of commits) {
    const short = c.sha.slice(0, 7);
    if (verifiedOnly && !c.commit.verification?.verified) {
      unknown.push(`commit ${short} is not signed with a signature GitHub verified`);
      continue;
    }
    for (const [role, user, email] of [
      ['author', c.author, c.commit.author?.email],
      ['committer', c.committer, c.commit.committer?.email],
    ] as const) {
      if (user?.login) {
        if (!GITHUB_ITSELF.has(user.login) && !logins.has(user.login.toLowerCase()))
          logins.set(user.login.toLowerCase(), user.login);
      } else if (!(role === 'committer' && email === 'noreply@github.com')) {
        unknown.push(`commit ${short}'s ${role} ${email ?? '(no email)'} is linked to no GitHub account`);
      }
    }
  }
  return { logins: [...logins.values()], unknown };
}
