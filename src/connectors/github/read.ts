import { RequestError } from '@octokit/request-error';
import type { Client } from './client.js';

/** A route this GitHub does not have (GitHub Enterprise Server lacks some): the feature it serves is not available. */
export class Unavailable extends Error {}

async function route<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof RequestError && e.status === 404)
      throw new Unavailable(`${e.request.method} ${new URL(e.request.url).pathname} answered 404`);
    throw e;
  }
}

/** The organisation's members and, apart, its owners (lowercase logins). */
export async function orgMembers(
  octokit: Client,
  org: string,
): Promise<{ members: Set<string>; admins: Set<string>; logins: string[] }> {
  const [members, admins] = await Promise.all([
    octokit.paginate(octokit.rest.orgs.listMembers, { org, role: 'all', per_page: 100 }),
    octokit.paginate(octokit.rest.orgs.listMembers, { org, role: 'admin', per_page: 100 }),
  ]);
  return {
    members: new Set(members.map((u) => u.login.toLowerCase())),
    admins: new Set(admins.map((u) => u.login.toLowerCase())),
    logins: members.map((u) => u.login),
  };
}

export interface Invitations {
  pending: { login: string; role: 'admin' | 'member'; teams: number }[];
  failed: { login: string; reason: string }[];
}

/** Invitations sent and not yet accepted, and those that failed or expired. Throws Unavailable where the server has no such routes. */
export async function invitations(octokit: Client, org: string): Promise<Invitations> {
  const [pending, failed] = await Promise.all([
    route(() => octokit.paginate(octokit.rest.orgs.listPendingInvitations, { org, per_page: 100 })),
    route(() => octokit.paginate(octokit.rest.orgs.listFailedInvitations, { org, per_page: 100 })),
  ]);
  return {
    pending: pending.flatMap((i) =>
      i.login
        ? [
            {
              login: i.login,
              role: i.role === 'admin' ? ('admin' as const) : ('member' as const),
              teams: i.team_count,
            },
          ]
        : [],
    ),
    failed: failed.flatMap((f) => (f.login ? [{ login: f.login, reason: f.failed_reason ?? 'failed' }] : [])),
  };
}

/** Whether an invitee's membership of a team waits on their invitation. */
export async function pendingInTeam(
  octokit: Client,
  org: string,
  slug: string,
  username: string,
): Promise<boolean> {
  try {
    const { data } = await octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username });
    return data.state === 'pending';
  } catch (e) {
    if (e instanceof RequestError && e.status === 404) return false;
    throw e;
  }
}

/**
 * Holders of a Copilot seat (lowercase logins, with the login as written).
 * A seat pending cancellation (cancelled by iden or in GitHub's settings; it
 * lasts to the end of the billing cycle) is not held: nothing cancels it
 * again, and a grant that gives it assigns it again, which GitHub takes as
 * withdrawing the cancellation. Throws Unavailable where the server has no Copilot.
 */
export async function copilotSeats(octokit: Client, org: string): Promise<Map<string, string>> {
  const holders = new Map<string, string>();
  await route(async () => {
    for await (const page of octokit.paginate.iterator(octokit.rest.copilot.listCopilotSeats, {
      org,
      per_page: 100,
    })) {
      const data = page.data as unknown as {
        seats?: { assignee?: { login?: string } | null; pending_cancellation_date?: string | null }[];
      };
      for (const seat of data.seats ?? [])
        if (seat.assignee?.login && !seat.pending_cancellation_date)
          holders.set(seat.assignee.login.toLowerCase(), seat.assignee.login);
    }
  });
  return holders;
}

/** A team's members, and those of them who maintain it (lowercase), with the logins as written. Throws Unavailable when the team does not exist. */
export async function teamMembers(
  octokit: Client,
  org: string,
  slug: string,
  maintainers: boolean,
): Promise<{ logins: string[]; maintainers: Set<string> }> {
  const members = await route(() =>
    octokit.paginate(octokit.rest.teams.listMembersInOrg, {
      org,
      team_slug: slug,
      role: 'all',
      per_page: 100,
    }),
  );
  const leads = maintainers
    ? await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
        org,
        team_slug: slug,
        role: 'maintainer',
        per_page: 100,
      })
    : [];
  return {
    logins: members.map((u) => u.login),
    maintainers: new Set(leads.map((u) => u.login.toLowerCase())),
  };
}

/** A repository's direct collaborators and the role each has (GitHub's role names: read, write, maintain, admin). Throws Unavailable when the repository does not exist. */
export async function collaborators(
  octokit: Client,
  org: string,
  repo: string,
): Promise<{ login: string; role: string }[]> {
  const list = await route(() =>
    octokit.paginate(octokit.rest.repos.listCollaborators, {
      owner: org,
      repo,
      affiliation: 'direct',
      per_page: 100,
    }),
  );
  return list.map((c) => ({ login: c.login, role: c.role_name }));
}
