import type { Change, StepResult } from '../types.js';
import type { Directory, EntraUser } from './directory.js';
import { type GraphRequest, type GraphResponse, ok, said } from './graph.js';
import type { Seats } from './licences.js';
import { assignmentKey, type Mapping, type Scope } from './observe.js';

/** A request ready to go, how to read its answer, and how to take back what preparing it reserved. */
export interface Prepared {
  request: GraphRequest;
  read(response: GraphResponse): StepResult[];
  /** The request will be sent again later (it was throttled): seats it reserved are free again. */
  release(): void;
}

/** One request's worth of changes: a membership, an app role, or one user's licences. */
export interface Job {
  changes: Change[];
  /** The request, or the results at once: nothing to do, or something that cannot be done. */
  prepare(): Prepared | StepResult[];
}

export interface WriteContext {
  app: string;
  base: string;
  scope: Scope;
  directory: Directory;
  mappingOf(change: Change): Mapping;
}

const done = (change: Change): StepResult => ({
  change,
  outcome: change.action === 'grant' ? 'granted' : 'revoked',
});
const unchanged = (change: Change): StepResult => ({ change, outcome: 'unchanged' });
const failed = (change: Change, error: string): StepResult => ({ change, outcome: 'failed', error });

/** The user a change is for; a grant to an account Entra does not have fails, saying so. */
function userFor(ctx: WriteContext, change: Change): EntraUser | StepResult {
  const user = ctx.directory.user(change.account);
  if (user) return user;
  if (change.action === 'revoke') return unchanged(change);
  const why = ctx.directory.absence(change.account) ?? 'not found';
  return failed(
    change,
    `no user ${change.account} in Entra (${why}); iden never creates users: create it in Entra, or give its userPrincipalName as accounts.${ctx.app} in _people.yaml`,
  );
}

/** What Graph said, and the permission that allows the write when it answered 403. */
function refusal(what: string, response: GraphResponse, permission: string): string {
  return `${what}: Graph answered ${said(response)}${response.status === 403 ? `; iden's app needs the application permission ${permission}` : ''}`;
}

/** Membership of a group: one POST of a member reference, or one DELETE of it. */
export function groupJob(ctx: WriteContext, change: Change): Job {
  return {
    changes: [change],
    prepare() {
      const user = userFor(ctx, change);
      if (!('id' in user)) return [user];
      const group = ctx.scope.groups.get(ctx.mappingOf(change).group!)!;
      const members = ctx.scope.members.get(group.id)!;
      const grant = change.action === 'grant';
      if (members.has(user.id) === grant) return [unchanged(change)];
      const name = JSON.stringify(group.displayName ?? group.id);
      const what = `${grant ? 'adding' : 'removing'} ${change.account} ${grant ? 'to' : 'from'} group ${name}`;
      return {
        request: grant
          ? {
              method: 'POST',
              url: `/groups/${group.id}/members/$ref`,
              body: { '@odata.id': `${ctx.base}/directoryObjects/${user.id}` },
            }
          : { method: 'DELETE', url: `/groups/${group.id}/members/${user.id}/$ref` },
        read(response) {
          // Already a member, or no longer one: the end state holds.
          const already =
            (grant && response.status === 400 && /already exist/i.test(said(response))) ||
            (!grant && response.status === 404);
          if (!ok(response.status) && !already)
            return [failed(change, refusal(what, response, 'GroupMember.ReadWrite.All'))];
          if (grant) members.add(user.id);
          else members.delete(user.id);
          return [already ? unchanged(change) : done(change)];
        },
        release() {},
      };
    },
  };
}

/** An app role: one POST of an assignment on the enterprise app, or one DELETE of the assignment observe found. */
export function roleJob(ctx: WriteContext, change: Change): Job {
  return {
    changes: [change],
    prepare() {
      const user = userFor(ctx, change);
      if (!('id' in user)) return [user];
      const mapping = ctx.mappingOf(change);
      const app = ctx.scope.apps.get(mapping.app!)!;
      const role = ctx.scope.roles.get(mapping.id)!;
      const key = assignmentKey(app.id, user.id, role);
      const existing = ctx.scope.assignments.get(key);
      const grant = change.action === 'grant';
      if ((existing !== undefined) === grant) return [unchanged(change)];
      const name = JSON.stringify(app.displayName ?? app.id);
      const what = `${grant ? 'giving' : 'taking'} app role ${JSON.stringify(mapping.role)} of ${name} ${grant ? 'to' : 'from'} ${change.account}`;
      return {
        request: grant
          ? {
              method: 'POST',
              url: `/servicePrincipals/${app.id}/appRoleAssignedTo`,
              body: { principalId: user.id, resourceId: app.id, appRoleId: role },
            }
          : { method: 'DELETE', url: `/servicePrincipals/${app.id}/appRoleAssignedTo/${existing}` },
        read(response) {
          const already =
            (grant && response.status === 400 && /already exists/i.test(said(response))) ||
            (!grant && response.status === 404);
          if (!ok(response.status) && !already)
            return [failed(change, refusal(what, response, 'AppRoleAssignment.ReadWrite.All'))];
          const id = (response.body as { id?: unknown } | undefined)?.id;
          if (grant && !already && typeof id === 'string') ctx.scope.assignments.set(key, id);
          if (!grant) ctx.scope.assignments.delete(key);
          return [already ? unchanged(change) : done(change)];
        },
        release() {},
      };
    },
  };
}

/**
 * One user's licences in one direction: a single assignLicense call. A
 * product with no free seat (prepaidUnits.enabled all consumed) is not
 * asked for: that change fails, saying so, and the others go ahead.
 */
export function licenceJob(ctx: WriteContext, changes: Change[]): Job {
  return {
    changes,
    prepare() {
      const results: StepResult[] = [];
      const user = userFor(ctx, changes[0]!);
      if (!('id' in user)) return changes.map((c) => ({ ...user, change: c }));
      const grant = changes[0]!.action === 'grant';
      const sending: { change: Change; seats: Seats }[] = [];
      for (const change of changes) {
        const seats = ctx.scope.skus.get(ctx.mappingOf(change).sku!)!;
        const holds = ctx.scope.licensed.get(seats.skuId)?.has(user.id) ?? false;
        if (holds === grant) results.push(unchanged(change));
        else if (grant && seats.consumed >= seats.enabled)
          results.push(
            failed(
              change,
              `no free ${seats.name} licence for ${change.account}: all ${seats.enabled} are assigned (subscribedSkus); free one or buy more`,
            ),
          );
        else {
          if (grant) seats.consumed++;
          sending.push({ change, seats });
        }
      }
      if (sending.length === 0) return results;
      const names = sending.map((s) => s.seats.name).join(', ');
      const what = `${grant ? 'assigning' : 'removing'} licence ${names} ${grant ? 'to' : 'from'} ${changes[0]!.account}`;
      const release = () => {
        if (grant) for (const s of sending) s.seats.consumed--;
      };
      return {
        request: {
          method: 'POST',
          url: `/users/${user.id}/assignLicense`,
          body: grant
            ? {
                addLicenses: sending.map((s) => ({ skuId: s.seats.skuId, disabledPlans: [] })),
                removeLicenses: [],
              }
            : { addLicenses: [], removeLicenses: sending.map((s) => s.seats.skuId) },
        },
        read(response) {
          if (!ok(response.status)) {
            release();
            const location = /usage location/i.test(said(response))
              ? '; set the usage location of the user in Entra (a licence needs one)'
              : '';
            const error = `${refusal(what, response, 'LicenseAssignment.ReadWrite.All')}${location}`;
            return [...results, ...sending.map((s) => failed(s.change, error))];
          }
          for (const s of sending) {
            const holders = ctx.scope.licensed.get(s.seats.skuId) ?? new Set<string>();
            ctx.scope.licensed.set(s.seats.skuId, holders);
            if (grant) holders.add(user.id);
            else {
              holders.delete(user.id);
              s.seats.consumed--;
            }
          }
          return [...results, ...sending.map((s) => done(s.change))];
        },
        release,
      };
    },
  };
}
