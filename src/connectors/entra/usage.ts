import { crawl, pages, query } from './crawl.js';
import type { Graph } from './graph.js';

interface SignedIn {
  id: string;
  userPrincipalName?: string | null;
  mail?: string | null;
  signInActivity?: { lastSuccessfulSignInDateTime?: string | null } | null;
}

/** Graph's largest page when signInActivity is selected. */
const PAGE = 120;

/**
 * When each user of the tenant last signed in successfully, by UPN and by
 * mail (lowercase): one read of /users, which alone carries signInActivity,
 * and only with the permission AuditLog.Read.All (and a Microsoft Entra ID
 * P1 or P2 licence). The successful sign-in, not lastSignInDateTime: that
 * counts attempts that failed, so someone else's failed tries would read as
 * use and take access out of a review. Null: no successful sign-in recorded.
 */
export async function lastSignIns(graph: Graph): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  await crawl(graph, [
    pages<SignedIn>(
      graph,
      `/users${query({ $select: 'id,userPrincipalName,mail,signInActivity', $top: PAGE })}`,
      "reading the users' sign-in activity",
      (users) => {
        for (const u of users) {
          const at = u.signInActivity?.lastSuccessfulSignInDateTime ?? null;
          for (const name of [u.userPrincipalName, u.mail])
            if (name && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), at);
        }
      },
      { permission: 'AuditLog.Read.All' },
    ),
  ]);
  return out;
}
