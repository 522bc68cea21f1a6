import type { Registry } from '../connectors/catalog.js';
import { accountDefaults } from '../connectors/catalog.js';
import { accountFor } from '../model/accounts.js';
import { type AccessRepo, type GrantEntry, type Person, peopleById } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import type { Validation } from '../validate/validate.js';
import { wantedEverywhere } from './org-removals.js';
import type { WantedIndex } from './wanted.js';

/**
 * Whether an account still has access that any app on the same target (a
 * PostgreSQL cluster's logins) gives at the instant, or frozen by a grant
 * file that does not validate: one decision for what apps share. Apps are
 * on one target when they share a key: the connector's guess from the
 * settings before anything is open (a URL's host and port), or what the app
 * itself says once open (a cluster's system identifier, however the URL
 * spelled the host). It is asked at apply, when every app has been opened.
 */
export interface TargetSharing {
  /** What an app said its target is, once open. */
  join(app: string, key: string): void;
  /**
   * Asks the apps this run does not open (another app's `--app` run) what
   * target they are on, a connection each and no lock: a run of one app
   * still sees what the others grant on its cluster.
   */
  identifyOthers(opened: ReadonlySet<string>, limit: <T>(fn: () => Promise<T>) => Promise<T>): Promise<void>;
  stillGranted(app: string, account: string): boolean;
}

export function targetSharing(
  repo: AccessRepo,
  at: Instant,
  registry: Registry,
  env: NodeJS.ProcessEnv,
  validation: Validation,
  /** What the grants give, indexed once (iden serve): asked per account instead of listed for every grant. */
  index?: { wanted: WantedIndex; people: Map<string, Person>; grantsByFile: Map<string, GrantEntry> },
): TargetSharing {
  const keysOf = new Map<string, Set<string>>();
  const join = (app: string, key: string) => keysOf.set(app, (keysOf.get(app) ?? new Set()).add(key));
  for (const app of repo.apps.values()) {
    const connector = app.value && registry[app.value.connector.type];
    const key = connector?.target?.({ id: app.id, file: app.value! }, env);
    if (key) join(app.id, key);
  }
  const accounts = new Map<string, Set<string>>();
  const add = (app: string, account: string | undefined) => {
    if (account !== undefined) accounts.set(app, (accounts.get(app) ?? new Set()).add(account));
  };
  if (!index)
    for (const key of wantedEverywhere(repo, at)) {
      const [app = '', account = ''] = key.split('\u0000');
      add(app, account);
    }
  const people = index?.people ?? peopleById(repo);
  // Accounts whose grant file does not validate keep what they have: their grants are few, the files with errors.
  const frozen = index
    ? [...validation.filesWithErrors].flatMap((file) => index.grantsByFile.get(file) ?? [])
    : repo.grants.filter((grant) => validation.filesWithErrors.has(grant.file));
  for (const grant of frozen) {
    const person = people.get(grant.name);
    const type = repo.apps.get(grant.folder)?.value?.connector.type;
    if (person && type) add(grant.folder, accountFor(person, grant.folder, accountDefaults[type]));
  }
  const holds = (app: string, account: string) =>
    (accounts.get(app)?.has(account) ?? false) || (index?.wanted.gives(app, account, at) ?? false);
  let groups: Map<string, string[]> | undefined;
  const learn = (app: string, key: string) => {
    join(app, key);
    groups = undefined;
  };
  return {
    join: learn,
    async identifyOthers(opened, limit) {
      const others = [...repo.apps.values()].filter((app) => app.value && !opened.has(app.id));
      await Promise.all(
        others.map((app) =>
          limit(async () => {
            const spec = { id: app.id, file: app.value! };
            const connector = registry[spec.file.connector.type];
            if (!connector?.identify || connector.missingCredentials(spec, env)) return;
            // An app that cannot be reached keeps the key its settings give.
            const key = await connector.identify(spec, env).catch(() => undefined);
            if (key) learn(app.id, key);
          }),
        ),
      );
    },
    stillGranted(app, account) {
      groups ??= sharedTargets(keysOf);
      return groups.get(app)?.some((other) => holds(other, account)) ?? false;
    },
  };
}

/** For each app with a target, the apps on the same target as it, directly or through others (itself included). */
function sharedTargets(keysOf: Map<string, Set<string>>): Map<string, string[]> {
  const parent = new Map<string, string>();
  const find = (app: string): string => {
    const up = parent.get(app) ?? app;
    return up === app ? app : find(up);
  };
  const firstWith = new Map<string, string>();
  for (const [app, keys] of keysOf) {
    for (const key of keys) {
      const other = firstWith.get(key);
      if (other === undefined) firstWith.set(key, app);
      else if (find(other) !== find(app)) parent.set(find(app), find(other));
    }
  }
  const byRoot = new Map<string, string[]>();
  for (const app of keysOf.keys()) {
    const root = find(app);
    const list = byRoot.get(root) ?? [];
    list.push(app);
    byRoot.set(root, list);
  }
  return new Map([...keysOf.keys()].map((app) => [app, byRoot.get(find(app))!]));
}
