// iden status: per app, in sync, changes pending, drift, or unreachable; and
// under each app, who holds access there that no grant gives or iden leaves alone.
import type { Command } from 'commander';
import type { AppStatus } from '../reconcile/status.js';
import { type Paint, paint, stateHue } from '../report/paint.js';
import { engineFlags, type RunOptions } from './engine-options.js';
import { colourOn, type Engine, EXIT, type Io } from './io.js';
import { choice, examples } from './options.js';

type StatusOptions = RunOptions & { format: 'text' | 'json' };

export function statusCommand(cli: Command, io: Io, done: (code: number) => void, engine: Engine): void {
  engineFlags(cli.command('status').description('per app: in sync, changes pending, drift, or unreachable'))
    .option('--format <format>', 'text or json', choice('--format', ['text', 'json'] as const), 'text')
    .addHelpText('after', examples('iden status', 'iden status --app db --format json'))
    .action(async (options: StatusOptions) => done(await runStatus(options, io, engine)));
}

export async function runStatus(options: StatusOptions, io: Io, engine: Engine): Promise<number> {
  const { begin, reportFatal } = await import('./engine.js');
  const { appStatuses } = await import('../reconcile/status.js');
  const { run } = await begin('status', options, io, engine, undefined, options.format === 'json');
  try {
    if (reportFatal(run, io)) return EXIT.failed;
    const { plan } = run.prepared;
    const ids = [...run.repo.apps.keys()].filter((id) => options.app === undefined || id === options.app);
    const apps = appStatuses(plan, ids);
    if (options.format === 'json') io.stdout(`${JSON.stringify({ at: plan.at, apps }, null, 2)}\n`);
    else io.stdout(statusText(apps, paint(colourOn(io))));
    return apps.some((a) => a.state === 'unreachable' || a.state === 'held') ? EXIT.failed : EXIT.ok;
  } finally {
    await run.close();
  }
}

/**
 * A line per app, then, indented under it, every account holding access
 * there that no grant gives (drift) or that iden leaves alone (unmanaged):
 * whoever uses them has that access, so status never leaves them out.
 */
export function statusText(apps: AppStatus[], p: Paint): string {
  if (apps.length === 0) return 'No apps yet: add one as grants/<app>/_app.yaml (docs/files.md).\n';
  let out = '';
  for (const a of apps) {
    const counts = `${a.grant} to grant, ${a.revoke} to revoke, ${a.drift} drift, ${a.held} held`;
    out += `${p('bold', a.app.padEnd(20))} ${p(stateHue(a.state), a.state.padEnd(12))} ${a.reason ?? counts}\n`;
    for (const d of a.drifted ?? []) {
      const who = d.user === d.account ? d.account : `${d.user} (${d.account})`;
      const then = d.removed ? 'the next apply removes it' : 'kept: the app does not set prune: true';
      out += `  ${p('yellow', 'drift:')} ${who} holds ${held(d)}, which no grant gives; ${then}\n`;
    }
    for (const u of a.unmanaged ?? [])
      out += `  ${p('cyan', 'unmanaged:')} ${u.account} holds ${held(u)}, left alone by iden (${u.why})\n`;
  }
  return out;
}

const held = (x: { entitlement?: string; license?: string }) => x.entitlement ?? `the ${x.license} license`;
