// What one app's planning starts from: its grants as specs (held where a
// file does not validate, cut where emergency access was not approved in
// time), the people by account, and the mappings it no longer declares.
import { accountDefaults } from '../connectors/catalog.js';
import type { Connector } from '../connectors/types.js';
import { type AccountWays, accountFor } from '../model/accounts.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { AccessRepo, AppEntry, AppFile, Person } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { emergencyCut } from '../rules/emergency.js';
import { accountsOf } from './accounts.js';
import type { GrantSpec } from './desired.js';
import type { Retired } from './history.js';
import type { AppInput } from './plan.js';

/** The app as its connector reads it: with the mappings it no longer declares, so their holders are observed and revoked. */
export function withRetired(app: AppFile, retired: Retired[]): AppFile {
  if (retired.length === 0) return app;
  const of = (kind: Retired['kind']) =>
    retired.filter((r) => r.kind === kind).map((r) => ({ ...r.item, id: r.id }));
  return {
    ...app,
    entitlements: [...app.entitlements, ...(of('entitlement') as AppFile['entitlements'])],
    licenses: [...(app.licenses ?? []), ...(of('license') as NonNullable<AppFile['licenses']>)],
  };
}

export interface AppContext {
  grants: AccessRepo['grants'];
  zone: string;
  firstError: Map<string, Diagnostic>;
  people: Person[];
  /** The people by id. */
  byId: Map<string, Person>;
  /** Accounts (and person ids) whose grant file for this app git says was deleted. */
  removed: Set<string>;
  retired: Retired[];
  /** How long emergency access may stay unapproved (rules.emergencyWindow). */
  emergencyWindow: string;
  /** Grant files once marked emergency whose flag was removed without an approved pull request. */
  unapproved: ReadonlySet<string>;
  /** The instant planned for. */
  at: Instant;
  /** The people by account one way of deriving accounts, made once a run and shared by every app (accounts.ts). */
  ways?: AccountWays;
}

export function appInput(app: AppEntry, connector: Connector | undefined, context: AppContext): AppInput {
  const { zone, firstError, people, byId } = context;
  const rule = accountDefaults[app.value?.connector.type ?? ''];
  const accountOf = (person: Person) => accountFor(person, app.id, rule);
  const grants: GrantSpec[] = [];
  const held: AppInput['held'] = [];
  for (const grant of context.grants) {
    const problem = firstError.get(grant.file);
    const person = grant.value && byId.get(grant.value.user);
    const account = person && accountOf(person);
    const cut = grant.value && context.unapproved.has(grant.file) ? { emergency: true } : grant.value;
    const window =
      grant.value && emergencyCut(cut!, grantWindow(grant.value, zone), context.emergencyWindow, zone);
    // Emergency access past its window is removed even when its file no longer validates: never held in force.
    const overdue = cut?.emergency === true && window?.end !== undefined && window.end <= context.at;
    if ((problem && !overdue) || !grant.value || !account || !window) {
      const reason = `${grant.file} does not validate${problem ? `: ${problem.message}` : ''}`;
      held.push({ user: grant.name, file: grant.file, reason });
      const named = grant.raw?.user;
      if (typeof named === 'string' && named !== grant.name)
        held.push({ user: named, file: grant.file, reason });
      continue;
    }
    const { user, permissions = [], license } = grant.value;
    grants.push({ file: grant.file, app: app.id, user, account, permissions, license, window });
  }
  const caseInsensitive = connector?.caseInsensitiveAccounts ?? false;
  const norm = (account: string) => (caseInsensitive ? account.toLowerCase() : account);
  const accountIndex = accountsOf(app.id, rule, caseInsensitive, people, context.ways);
  return {
    id: app.id,
    prune: app.value?.prune ?? false,
    caseInsensitiveAccounts: caseInsensitive,
    observed: undefined,
    grants,
    held,
    people: accountIndex,
    removedFromGit: new Set([...context.removed].map(norm)),
    retired: new Set(context.retired.map((r) => r.id)),
  };
}
