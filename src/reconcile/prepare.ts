import type { Registry } from '../connectors/registry.js';
import { accountDefaults } from '../connectors/schemas.js';
import type { Connector, Held, Session } from '../connectors/types.js';
import type { Diagnostic } from '../diagnostics.js';
import { grantFilesInHistory } from '../git/history.js';
import { accountFor } from '../model/accounts.js';
import type { AccessRepo, AppEntry, Person } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { groupBy } from '../util/group-by.js';
import { type Validation, validateRepo } from '../validate/validate.js';
import type { GrantSpec } from './desired.js';
import { type AppInput, emptyPlan, makePlan, type Plan } from './plan.js';

export interface PrepareOptions {
  repo: AccessRepo;
  at: Instant;
  /** Only this app. */
  app?: string | undefined;
  /** A missing credential fails the run instead of skipping the app. */
  strict: boolean;
  allowMassRemoval: boolean;
  env: NodeJS.ProcessEnv;
  registry: Registry;
  onNotice?: (text: string) => void;
}

export interface Prepared {
  validation: Validation;
  plan: Plan;
  /** Open sessions of the observed apps; the caller applies through them and closes them. */
  sessions: Map<string, Session>;
  /** Problems in _settings.yaml or _people.yaml: nothing can be planned safely. */
  fatal: Diagnostic[];
}

export const DEFAULT_LIMITS = { maxRemovals: 50, maxRemovalShare: 0.5 };

/**
 * The I/O shell around the planner: validates the repository, opens and
 * observes each app, reads git history, and hands all of it to makePlan.
 */
export async function preparePlan(options: PrepareOptions): Promise<Prepared> {
  const { repo, at, registry } = options;
  const validation = validateRepo(repo, at);
  const sessions = new Map<string, Session>();
  const fatal = validation.diagnostics.filter(
    (d) => d.severity === 'error' && (d.file === 'grants/_settings.yaml' || d.file === 'grants/_people.yaml'),
  );
  if (fatal.length > 0 || !repo.people?.value) return { validation, plan: emptyPlan(at), sessions, fatal };

  const people = repo.people.value.people;
  const history = await grantFilesInHistory(repo.root);
  if (history.notice) options.onNotice?.(history.notice);
  const current = new Set(repo.grants.map((g) => g.file));

  const firstError = new Map<string, Diagnostic>();
  for (const d of validation.diagnostics)
    if (d.severity === 'error' && !firstError.has(d.file)) firstError.set(d.file, d);
  const grantsByApp = groupBy(repo.grants, (g) => g.folder);
  const zone = repo.settings?.value?.timezone ?? 'UTC';

  const apps = [...repo.apps.values()].filter((a) => options.app === undefined || a.id === options.app);
  const inputs = await Promise.all(
    apps.map(async (app): Promise<AppInput> => {
      const connector = app.value ? registry[app.value.connector.type] : undefined;
      const input = appInput(app, connector, {
        grants: grantsByApp.get(app.id) ?? [],
        zone,
        firstError,
        people,
        history: history.paths,
        current,
      });
      if (!app.value || validation.filesWithErrors.has(app.file) || !connector) {
        return { ...input, skip: { reason: `${app.file} does not validate`, error: true } };
      }
      const missing = connector.missingCredentials({ id: app.id, file: app.value }, options.env);
      if (missing) return { ...input, skip: { reason: `no credentials: ${missing}`, error: options.strict } };
      let session: Session | undefined;
      try {
        session = await connector.open(
          { id: app.id, file: app.value },
          { repoRoot: repo.root, env: options.env },
        );
        const observed: Held[] = await session.observe();
        for (const notice of session.notices ?? []) options.onNotice?.(`${app.id}: ${notice}`);
        sessions.set(app.id, session);
        return { ...input, observed };
      } catch (e) {
        await session?.close().catch(() => undefined);
        return { ...input, skip: { reason: `cannot observe: ${(e as Error).message}`, error: true } };
      }
    }),
  );
  const limits = { ...DEFAULT_LIMITS, ...repo.settings?.value?.limits };
  const plan = makePlan({ at, apps: inputs, limits, allowMassRemoval: options.allowMassRemoval });
  return { validation, plan, sessions, fatal };
}

interface AppContext {
  grants: AccessRepo['grants'];
  zone: string;
  firstError: Map<string, Diagnostic>;
  people: Person[];
  history: Set<string>;
  current: Set<string>;
}

function appInput(app: AppEntry, connector: Connector | undefined, context: AppContext): AppInput {
  const { zone, firstError, people, history, current } = context;
  const type = app.value?.connector.type ?? '';
  const accountOf = (person: Person) => accountFor(person, app.id, accountDefaults[type]);
  const byId = new Map(people.map((p) => [p.id, p]));
  const grants: GrantSpec[] = [];
  const held: AppInput['held'] = [];
  for (const grant of context.grants) {
    const problem = firstError.get(grant.file);
    const person = grant.value && byId.get(grant.value.user);
    const account = person && accountOf(person);
    const window = grant.value && grantWindow(grant.value, zone);
    if (problem || !grant.value || !account || !window) {
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
  const accountIndex = new Map<string, string>();
  for (const person of people) {
    const account = accountOf(person);
    if (account) accountIndex.set(caseInsensitive ? account.toLowerCase() : account, person.id);
  }
  const prefix = `grants/${app.id}/`;
  const removedFromGit = new Set(
    [...history]
      .filter((path) => path.startsWith(prefix) && !current.has(path) && !path.endsWith('/_app.yaml'))
      .map((path) => path.slice(prefix.length, -'.yaml'.length)),
  );
  return {
    id: app.id,
    prune: app.value?.prune ?? false,
    caseInsensitiveAccounts: caseInsensitive,
    observed: undefined,
    grants,
    held,
    people: accountIndex,
    removedFromGit,
  };
}

export async function closeSessions(sessions: Map<string, Session>): Promise<void> {
  await Promise.all([...sessions.values()].map((s) => s.close().catch(() => undefined)));
}
