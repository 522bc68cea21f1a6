// iden import: write the grant files for the access an app already holds, for review.
import type { Command } from 'commander';
import type { Held, Session } from '../connectors/types.js';
import type { ImportResult } from '../flow/import.js';
import { DEFAULT_LOCK_TIMEOUT, type Engine, EXIT, type Io, UsageError } from './io.js';
import { choice, examples } from './options.js';

export type { ImportResult };

export interface ImportOptions {
  repo?: string;
  app: string;
  at?: string;
  addPeople?: boolean;
  /** Also list the accounts iden did not create in the app's `adopt:`, so the reviewed change hands them over. */
  adopt?: boolean;
  reason?: string;
  dryRun?: boolean;
  format: 'text' | 'json';
  lockTimeout?: string;
}

export function importCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  cli
    .command('import')
    .description('write the grant files for the access an app already holds, for review in a pull request')
    .option('--repo <dir>', 'the access repository root', '.')
    .requiredOption('--app <id>', 'the app to read')
    .option('--at <iso>', 'the date the imported grants are described at (default now)')
    .option('--add-people', 'add people to _people.yaml for accounts that match no one')
    .option(
      '--adopt',
      "list the accounts iden did not create in the app's adopt:, so that, once the change is merged, iden takes them over",
    )
    .option('--reason <text>', 'the reason written in each file (default: imported from <app> on <date>)')
    .option('--dry-run', 'print what would be written, and write nothing')
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .option(
      '--lock-timeout <duration>',
      `how long to wait for another run on this app (default ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .addHelpText(
      'after',
      examples('iden import --app db --dry-run', 'iden import --app github --add-people --adopt'),
    )
    .action(async (options: ImportOptions) => done(await runImport(options, io, engine)));
}

/**
 * `iden import --app A`: observes the app and writes, for each account that
 * holds its managed entitlements or tiers, the grant file describing exactly
 * that. Never overwrites a grant file, never commits: the admin reviews the
 * files and opens the pull request like any change.
 */
export async function runImport(options: ImportOptions, io: Io, engine: Engine = {}): Promise<number> {
  const { DateTime } = await import('luxon');
  const { connectors } = await import('../connectors/catalog.js');
  const { repositoryRoot } = await import('../git/state.js');
  const { loadRepo } = await import('../load/repo.js');
  const { parseDuration } = await import('../model/duration.js');
  const { atOption } = await import('../model/instant.js');
  const { zoneOf } = await import('../model/time.js');
  const { planImport, writeImport } = await import('../flow/import.js');
  const { importReport } = await import('../report/import.js');
  const root = await repositoryRoot(io.cwd, options.repo);
  const repo = await loadRepo(root);
  const app = repo.apps.get(options.app);
  if (!app)
    throw new UsageError(
      `--app ${options.app}: no app of that id in grants/ (${[...repo.apps.keys()].join(', ')})`,
    );
  if (!app.value) {
    io.stderr(`iden: ${app.file} does not validate; run iden validate and fix it first\n`);
    return EXIT.failed;
  }
  const people = repo.people?.value?.people;
  if (!people) {
    io.stderr('iden: grants/_people.yaml does not validate; run iden validate and fix it first\n');
    return EXIT.failed;
  }
  const connector = (engine.registry ?? connectors)[app.value.connector.type];
  if (!connector) throw new UsageError(`${app.file}: no connector of type ${app.value.connector.type}`);
  const spec = { id: app.id, file: app.value };
  const missing = connector.missingCredentials(spec, io.env);
  if (missing) {
    io.stderr(`iden: cannot read ${app.id}: ${missing}\n`);
    return EXIT.failed;
  }
  const at = atOption(options.at, repo, io.clock.now());
  const zone = zoneOf(repo);
  const reason =
    options.reason ?? `imported from ${app.id} on ${DateTime.fromMillis(at, { zone }).toISODate()}`;

  let held: Held[];
  let session: Session | undefined;
  try {
    session = await connector.open(spec, {
      repoRoot: root,
      env: io.env,
      lockTimeoutMs: parseDuration(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT) ?? 300_000,
      onNotice: (text) => io.stderr(`notice: ${app.id}: ${text}\n`),
      people: new Map(people.map((p) => [p.id, p])),
      importing: true,
      clock: io.clock,
    });
    held = await session.observe();
  } catch (e) {
    io.stderr(`iden: cannot read ${app.id}: ${(e as Error).message}; nothing was written\n`);
    return EXIT.failed;
  } finally {
    await session?.close().catch(() => undefined);
  }

  const plan = planImport({
    root,
    repo,
    app: { id: app.id, file: app.file, value: app.value },
    people,
    held,
    connector,
    reason,
    ...(options.addPeople ? { addPeople: true } : {}),
    ...(options.adopt ? { adopt: true } : {}),
  });
  if (!options.dryRun) writeImport(root, app, plan);
  if (options.format === 'json') io.stdout(`${JSON.stringify(plan.result, null, 2)}\n`);
  else io.stdout(importReport(plan.result, options.dryRun === true, plan.files));
  return EXIT.ok;
}
