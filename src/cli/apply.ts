// iden apply: apply a saved plan, or plan and apply.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { engineFlags, type RunOptions, recordFlags } from './engine-options.js';
import { type Engine, EXIT, type Io, UsageError } from './io.js';
import { examples } from './options.js';

export type ApplyOptions = RunOptions & { yes?: boolean };

export function applyCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  recordFlags(
    engineFlags(
      cli
        .command('apply')
        .description('apply a saved plan, or plan and apply')
        .argument('[plan]', 'a plan written by iden plan --out'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'iden apply                                   # plan, ask, apply',
        'iden apply plan.json --yes                   # exactly the saved plan, or nothing',
      ),
    )
    .action(async (file: string | undefined, options: ApplyOptions) =>
      done(
        file
          ? await runApplySaved(file, options, io, engine)
          : await (await import('./engine.js')).planAskApply(options, io, engine, 'apply'),
      ),
    );
}

/**
 * `iden apply plan.json`: executes a saved plan only if it is exactly what
 * planning its commit at its instant gives now, from the same repository,
 * with what the apps hold unchanged. It asks first, as apply always does.
 */
export async function runApplySaved(
  file: string,
  options: ApplyOptions,
  io: Io,
  engine: Engine,
): Promise<number> {
  const { begin, confirmed, executeAndSay, reportFatal, summary } = await import('./engine.js');
  const { PlanFileError, planDifferences, readPlanFile, repositoryIdentity } = await import(
    '../reconcile/plan-file.js'
  );
  const { formatPlan, formatResults } = await import('../report/plan.js');
  let saved: ReturnType<typeof readPlanFile>;
  try {
    saved = readPlanFile(resolve(io.cwd, file));
  } catch (e) {
    if (e instanceof PlanFileError) throw new UsageError(e.message);
    throw e;
  }
  if (options.app !== undefined && options.app !== saved.scope.app)
    throw new UsageError(`--app ${options.app}: the saved plan covers ${saved.scope.app ?? 'every app'}`);
  if (saved.blocked.length > 0 && !options.allowMassRemoval) {
    for (const b of saved.blocked) io.stderr(`blocked: ${b}\n`);
    io.stderr('iden: the saved plan was blocked by the safety gates; plan again with --allow-mass-removal\n');
    return EXIT.failed;
  }
  const scoped: RunOptions = { ...options };
  if (saved.scope.app !== undefined) scoped.app = saved.scope.app;
  const { run, style } = await begin('apply', scoped, io, engine, saved.at);
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const differences = planDifferences(saved, {
      repository: await repositoryIdentity(run.repo.root, run.commit),
      commit: run.commit ?? null,
      plan: run.prepared.plan,
      desired: run.prepared.desired,
    });
    if (differences.length > 0) {
      for (const d of differences) io.stderr(`iden: ${d}\n`);
      io.stderr('iden: the saved plan was not applied; nothing was changed\n');
      return EXIT.failed;
    }
    const { plan } = run.prepared;
    io.stdout(formatPlan(plan, 'text', style));
    if (plan.changes.length > 0 && !(await confirmed(options.yes, io))) {
      io.stderr('iden: nothing was changed\n');
      return EXIT.failed;
    }
    const outcome = await executeAndSay(run, plan, 'apply', options, io);
    summary(
      () => `${formatPlan(plan, 'markdown', style)}\n${'```'}\n${formatResults(outcome.results)}${'```'}`,
      io,
    );
    return !outcome.complete || outcome.results.some((r) => r.outcome === 'failed') ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}
