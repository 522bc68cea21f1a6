import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { Registry } from '../connectors/catalog.js';
import { accountDefaults } from '../connectors/catalog.js';
import type { Held, Session } from '../connectors/types.js';
import { target } from '../model/access.js';
import { AccountWays } from '../model/accounts.js';
import type { Clock } from '../model/clock.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { formatDuration } from '../model/duration.js';
import type { AccessRepo, AppFile } from '../model/repo.js';
import { type Instant, zoneOf } from '../model/time.js';
import { emergencyWindow } from '../rules/resolve.js';
import { groupBy } from '../util/group-by.js';
import { type Validation, validateRead } from '../validate/validate.js';
import { appInput, withRetired } from './app-input.js';
import { type BranchLog, EMPTY_BRANCH, readBranchLog } from './branch.js';
import { desired } from './desired.js';
import { unapprovedEmergency } from './emergency.js';
import { grantHistories, grantPaths, readPast, removedAccounts, retiredMappings } from './history.js';
import { type AppInput, emptyPlan, historyCandidates, makePlan, type Plan } from './plan.js';
import { GaveUp, type RetryOptions, withRetry } from './retry.js';
import type { RepoFacts } from './standing.js';
import { targetSharing } from './target-sharing.js';
import { type Verification, type VerifiedFile, verifyGrants } from './verify.js';

export interface PrepareOptions {
  repo: AccessRepo;
  /** The commit read (HEAD); undefined for a folder that is not a git repository. */
  commit?: string | undefined;
  /** The commit's first-parent history, when the caller has started reading it. */
  branch?: Promise<BranchLog>;
  at: Instant;
  /** Only this app. */
  app?: string | undefined;
  /** Only these apps (iden serve's timer: the apps whose grants start or end). */
  apps?: readonly string[] | undefined;
  /** A missing credential fails the run instead of skipping the app. */
  strict: boolean;
  allowMassRemoval: boolean;
  env: NodeJS.ProcessEnv;
  registry: Registry;
  lockTimeoutMs: number;
  embeddedTimeoutMs?: number;
  /** How transient failures to observe are retried; tests shorten the waits. */
  retryOptions?: RetryOptions;
  /** Removals the repository asks for across every app since the last recorded run (for --app runs). */
  repositoryRemovals?: { count: number; since: string };
  onNotice?: (text: string) => void;
  /** A slow step of an app begins (observing, creating its embedded database): for progress on a terminal. */
  onProgress?: (app: string, text: string) => void;
  /** Where connectors read the time and wait (rate-limit resets): the run's clock. */
  clock?: Clock;
  /** Apps may keep what is slow to open for the next run of this process (iden serve). */
  keepWarm?: boolean;
  /** What runs of this process derive from this same repository, kept between them (iden serve). */
  facts?: RepoFacts;
  /** Blobs of earlier versions read by earlier runs of this process, by id (iden serve). */
  blobs?: Map<string, string>;
}

export interface Prepared {
  validation: Validation;
  plan: Plan;
  /** Open sessions of the observed apps; the caller applies through them and closes them. */
  sessions: Map<string, Session>;
  /** Problems in _settings.yaml or _people.yaml: nothing can be planned safely. */
  fatal: Diagnostic[];
  /** A digest of every assignment the repository wants at the instant, for sealing a saved plan. */
  desired: string;
  /** What each observed app holds (iden access --observed reads it). */
  held: Map<string, Held[]>;
  /** Apply-time verification's verdicts reached this run, for the run's record. */
  verified: VerifiedFile[];
}

export const DEFAULT_LIMITS = { maxRemovals: 50, maxRemovalShare: 0.5 };
/** Apps opened and observed at once: each embedded database is a thread with its own memory. */
const OPEN_AT_ONCE = 3;

/**
 * The I/O shell around the planner: validates the repository, reads what git
 * knows (deleted grants and the accounts they had, retired mappings), opens
 * and observes each app a few at a time, and hands all of it to makePlan.
 */
export async function preparePlan(options: PrepareOptions): Promise<Prepared> {
  const { repo, at, registry, facts } = options;
  // Kept between runs: ended-grant warnings due within the hour are placed now, in one read.
  if (facts) await facts.validation.ready(at + 3_600_000);
  const validation = facts ? facts.validation.at(at) : await validateRead(repo, at);
  const sessions = new Map<string, Session>();
  const fatal = validation.diagnostics.filter(
    (d) => d.severity === 'error' && (d.file === 'grants/_settings.yaml' || d.file === 'grants/_people.yaml'),
  );
  if (fatal.length > 0 || !repo.people?.value)
    return { validation, plan: emptyPlan(at), sessions, fatal, desired: '', held: new Map(), verified: [] };

  const people = repo.people.value.people;
  // The branch's first-parent history, read once: every decision drawn from the past reads it.
  const branch = options.commit
    ? await (options.branch ?? readBranchLog(repo.root, options.commit))
    : undefined;
  if (!options.commit)
    options.onNotice?.('not a git repository: access whose grant file was deleted shows as drift');
  if (branch?.shallow)
    options.onNotice?.(
      'shallow clone: grant files deleted before its first commit show as drift; fetch the full history',
    );
  const past = await readPast(repo.root, branch ?? EMPTY_BRANCH);
  const history = grantPaths(past);
  // From the repository and its history alone: the same for every run on this commit.
  const gone = async () => {
    const current = new Set(repo.grants.map((g) => g.file));
    const deleted = [...history.deleted]
      .filter((path) => !current.has(path))
      .map((path) => path.split('/'))
      .filter((parts) => parts.length === 3)
      .map(([, app = '', file = '']) => ({
        app,
        user: file.slice(0, -'.yaml'.length),
        rule: accountDefaults[repo.apps.get(app)?.value?.connector.type ?? ''],
      }))
      .filter((d) => repo.apps.has(d.app));
    return {
      removed: await removedAccounts(repo.root, past, deleted, people),
      deletedByApp: groupBy(deleted, (d) => d.app),
    };
  };
  const { removed, deletedByApp } = await (facts && branch
    ? facts.derived(`gone:${branch.line.at(-1) ?? ''}`, gone)
    : gone());

  const firstError = new Map<string, Diagnostic>();
  for (const d of validation.diagnostics)
    if (d.severity === 'error' && !firstError.has(d.file)) firstError.set(d.file, d);
  const grantsByApp = facts
    ? facts.derived('grantsByApp', () => groupBy(repo.grants, (g) => g.folder))
    : groupBy(repo.grants, (g) => g.folder);
  const zone = zoneOf(repo);
  // Emergency access whose flag was removed without an approved pull request is still cut at its window.
  const emergency = await unapprovedEmergency(
    repo,
    past,
    { head: options.commit, branch, env: options.env },
    zone,
    at,
  );

  const only = options.apps && new Set(options.apps);
  const apps = [...repo.apps.values()].filter(
    (a) => (options.app === undefined || a.id === options.app) && (!only || only.has(a.id)),
  );
  const sharing = targetSharing(
    repo,
    at,
    registry,
    options.env,
    validation,
    facts && { wanted: facts.wanted, people: facts.people, grantsByFile: facts.grantsByFile },
  );
  const directory = facts?.people ?? new Map(people.map((p) => [p.id, p]));
  const retiredByApp = await retiredMappings(
    repo.root,
    past,
    new Map(apps.flatMap((a) => (a.value ? [[a.id, a.value] as [string, AppFile]] : []))),
    options.blobs,
  );
  const limit = pLimit(OPEN_AT_ONCE);
  const ways = new AccountWays(people);
  const wanted: string[] = [];
  const inputs = await Promise.all(
    apps.map((app) =>
      limit(async (): Promise<AppInput> => {
        const connector = app.value ? registry[app.value.connector.type] : undefined;
        const retired = retiredByApp.get(app.id) ?? [];
        const input = appInput(app, connector, {
          grants: grantsByApp.get(app.id) ?? [],
          zone,
          firstError,
          people,
          byId: directory,
          removed: new Set([
            ...(removed.get(app.id) ?? []),
            ...(deletedByApp.get(app.id) ?? []).map((d) => d.user),
          ]),
          retired,
          emergencyWindow: emergencyWindow(repo.settings?.value),
          unapproved: emergency.files,
          at,
          ways,
        });
        const fold = (account: string) =>
          connector?.caseInsensitiveAccounts ? account.toLowerCase() : account;
        for (const a of desired(input.grants, at))
          wanted.push(`${a.app}\u0000${a.account}\u0000${target(a)}`);
        // What the grants give each account, made only for a connector that asks (one app's: Google
        // Workspace's groups), not kept for every app through the run (a million accounts at 1M grants).
        let granted: Map<string, Set<string>> | undefined;
        const grantedTo = (account: string): ReadonlySet<string> => {
          if (!granted) {
            granted = new Map();
            for (const a of desired(input.grants, at)) {
              const key = fold(a.account);
              granted.set(key, (granted.get(key) ?? new Set()).add(target(a)));
            }
          }
          return granted.get(fold(account)) ?? new Set();
        };
        if (!app.value || validation.filesWithErrors.has(app.file) || !connector) {
          return { ...input, skip: { reason: `${app.file} does not validate`, error: true } };
        }
        const missing = connector.missingCredentials({ id: app.id, file: app.value }, options.env);
        if (missing)
          return { ...input, skip: { reason: `no credentials: ${missing}`, error: options.strict } };
        const file = app.value;
        let session: Session | undefined;
        options.onProgress?.(app.id, 'observing');
        // Said with the app: a wait of ten seconds or more, and why.
        const retry: RetryOptions = {
          ...options.retryOptions,
          onWait: (ms, e) =>
            options.onNotice?.(`${app.id}: waiting ${formatDuration(ms)} before trying again: ${e.message}`),
        };
        try {
          // A refusal at connect time (too many clients, a server starting up) is retried like any other.
          session = await withRetry(
            () =>
              connector.open(
                { id: app.id, file: withRetired(file, retired) },
                {
                  repoRoot: repo.root,
                  env: options.env,
                  lockTimeoutMs: options.lockTimeoutMs,
                  ...(options.embeddedTimeoutMs !== undefined
                    ? { embeddedTimeoutMs: options.embeddedTimeoutMs }
                    : {}),
                  ...(options.onNotice
                    ? { onNotice: (text: string) => options.onNotice?.(`${app.id}: ${text}`) }
                    : {}),
                  ...(options.onProgress
                    ? { onProgress: (text: string) => options.onProgress?.(app.id, text) }
                    : {}),
                  stillGranted: (account) => sharing.stillGranted(app.id, account),
                  adopt: new Set(file.adopt ?? []),
                  grantedTo,
                  people: directory,
                  ...(options.clock ? { clock: options.clock } : {}),
                  ...(options.keepWarm ? { keepWarm: true } : {}),
                },
              ),
            retry,
          );
          const open = session;
          if (session.targetKey) sharing.join(app.id, session.targetKey);
          const observed: Held[] = await withRetry(() => open.observe(), retry);
          for (const notice of session.notices ?? []) options.onNotice?.(`${app.id}: ${notice}`);
          // An embedded database's thread is stopped until apply needs it: many never run at once.
          await session.suspend?.();
          sessions.set(app.id, session);
          return { ...input, observed };
        } catch (e) {
          await session?.close().catch(() => undefined);
          const message = e instanceof GaveUp ? e.message : (e as Error).message;
          return { ...input, skip: { reason: `cannot observe: ${message}`, error: true } };
        }
      }),
    ),
  );
  if ([...sessions.values()].some((s) => s.targetKey))
    await sharing.identifyOthers(new Set(apps.map((a) => a.id)), limit);
  // `changed` or `drift`, `changed` or `new-grant`: decided by what the grant file said before.
  // Only in the apps where some grant file has an earlier version (none, on a branch of one commit).
  const changedApps = new Set([...history.changed].map((file) => file.split('/')[1]));
  const candidates = inputs.flatMap((input) =>
    (changedApps.has(input.id) ? historyCandidates(input, at) : [])
      .map((user) => ({ input, user, file: `grants/${input.id}/${user}.yaml` }))
      .filter((c) => history.changed.has(c.file)),
  );
  if (candidates.length > 0) {
    const histories = await grantHistories(
      repo.root,
      past,
      candidates.map((c) => c.file),
      options.blobs,
    );
    for (const { input, user, file } of candidates) {
      const earlier = histories.get(file);
      if (!earlier) continue;
      input.history ??= new Map();
      input.history.set(user, earlier);
    }
  }
  const limits = { ...DEFAULT_LIMITS, ...repo.settings?.value?.limits };
  const plan = makePlan({
    at,
    apps: inputs,
    limits,
    allowMassRemoval: options.allowMassRemoval,
    ...(options.repositoryRemovals ? { repositoryRemovals: options.repositoryRemovals } : {}),
  });
  const verification = await verifyGrants({
    root: repo.root,
    head: options.commit,
    ...(branch ? { branch } : {}),
    repo,
    changes: plan.changes,
    env: options.env,
  });
  if (verification.notice) options.onNotice?.(verification.notice);
  holdUnverified(plan, verification);
  const unmanaged = [...sessions].flatMap(([app, session]) =>
    (session.unmanaged ?? []).map((u) => ({ app, ...u })),
  );
  if (unmanaged.length > 0) plan.unmanaged = unmanaged;
  // The same digest as of the sorted lines joined, without making that text (150 MB at a million grants).
  const hash = createHash('sha256');
  for (const [i, line] of wanted.sort().entries()) hash.update(i === 0 ? line : `\n${line}`);
  const digest = hash.digest('hex');
  const held = new Map(inputs.flatMap((i) => (i.observed ? [[i.id, i.observed] as [string, Held[]]] : [])));
  return {
    validation,
    plan,
    sessions,
    fatal,
    desired: digest,
    held,
    verified: [...emergency.verified, ...verification.verified],
  };
}

/** Takes the grants that failed verification out of the plan, into what it holds back, once per person and app. */
function holdUnverified(plan: Plan, verification: Verification): void {
  if (verification.held.length === 0) return;
  const unverified = new Set(verification.held.map((h) => h.change));
  plan.changes = plan.changes.filter((c) => !unverified.has(c));
  const seen = new Set(plan.held.map((h) => `${h.app}\u0000${h.user}`));
  for (const { change, file, reason } of verification.held) {
    const key = `${change.app}\u0000${change.user}`;
    if (seen.has(key)) continue;
    seen.add(key);
    plan.held.push({ app: change.app, user: change.user, file, reason });
  }
  plan.held.sort((a, b) => a.app.localeCompare(b.app) || a.user.localeCompare(b.user));
}

export async function closeSessions(sessions: Map<string, Session>): Promise<void> {
  await Promise.all([...sessions.values()].map((s) => s.close().catch(() => undefined)));
}
