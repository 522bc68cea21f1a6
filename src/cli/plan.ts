// iden plan: what would be granted and revoked to make the apps match the repository.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { PlanFormat } from '../report/plan.js';
import { engineFlags, type RunOptions } from './engine-options.js';
import { type Engine, EXIT, type Io } from './io.js';
import { choice, examples } from './options.js';

export type PlanOptions = RunOptions & { format: PlanFormat; out?: string; detailedExitcode?: boolean };

export function planCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  engineFlags(
    cli
      .command('plan')
      .description('show what would be granted and revoked to make the apps match the repository'),
  )
    .option(
      '--format <format>',
      'text, json or markdown',
      choice('--format', ['text', 'json', 'markdown'] as const),
      'text',
    )
    .option('--out <file>', 'also write the plan as JSON, for iden apply <file>')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none, 1 on error')
    .addHelpText(
      'after',
      examples(
        'iden plan',
        'iden plan --app db --format markdown',
        'iden plan --out plan.json                    # then: iden apply plan.json',
      ),
    )
    .action(async (options: PlanOptions) => done(await runPlan(options, io, engine)));
}

export async function runPlan(options: PlanOptions, io: Io, engine: Engine = {}): Promise<number> {
  const { begin, hasErrors, reportFatal, summary } = await import('./engine.js');
  const { formatPlan } = await import('../report/plan.js');
  const { PLAN_FORMAT_VERSION, repositoryIdentity, writePlanFile } = await import(
    '../reconcile/plan-file.js'
  );
  const { idenVersion } = await import('../util/package-root.js');
  const { batched, jsonChunks } = await import('../util/json-stream.js');
  const { run, style } = await begin('plan', options, io, engine, undefined, options.format === 'json');
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    // JSON goes out in pieces: a million changes make a text near the longest string V8 holds.
    if (options.format === 'json') for (const piece of batched(jsonChunks(plan))) io.stdout(piece);
    else io.stdout(formatPlan(plan, options.format, style));
    summary(() => formatPlan(plan, 'markdown', style), io);
    if (options.out) {
      writePlanFile(resolve(io.cwd, options.out), {
        formatVersion: PLAN_FORMAT_VERSION,
        iden: idenVersion(),
        repository: await repositoryIdentity(run.repo.root, run.commit),
        commit: run.commit ?? null,
        scope: options.app !== undefined ? { app: options.app } : {},
        desired: run.prepared.desired,
        ...plan,
      });
    }
    if (hasErrors(plan)) return EXIT.failed;
    return options.detailedExitcode && plan.changes.length > 0 ? EXIT.changes : EXIT.ok;
  } finally {
    await run.close();
  }
}
